"""A teacher's laptop as a separate process, for the tests that SIGKILL it.

    python -m tests.e2e.child record HOME JOURNAL SEED   # type entries until killed
    python -m tests.e2e.child sync HOME                  # one sync, until killed

`record` prints `SAVED <event id>` for each saved entry, and flushes, only after the service
call returned: that is the moment the screen would show the entry as saved.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from client_tui.services.api import SyncError
from client_tui.services.session import Session
from tests.e2e.workload import record_step
from tests.factories import PASSWORD


def record(home: Path, journal_id: str, seed: int, limit: int = 10_000) -> int:
    session = Session(home, password=PASSWORD)
    rng = random.Random(seed)
    print("READY", flush=True)
    try:
        for _ in range(limit):
            for event_id in record_step(session.book, journal_id, rng):
                sys.stdout.write(f"SAVED {event_id}\n")
            sys.stdout.flush()
    finally:
        session.close()
    return 0


def sync(home: Path) -> int:
    session = Session(home, password=PASSWORD)
    print("SYNCING", flush=True)
    try:
        report = session.sync()
        print(f"DONE complete={report.complete}", flush=True)
        return 0
    except SyncError as exc:
        print(f"FAILED {exc.message_ru}", flush=True)
        return 3
    finally:
        session.close()


def main(argv: list[str]) -> int:
    command, home, *rest = argv
    if command == "record":
        journal_id, seed = rest
        return record(Path(home), journal_id, int(seed))
    if command == "sync":
        return sync(Path(home))
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
