"""Unlock a laptop's store in a separate process that SIGKILLs itself at one step of the
encryption of a plain store (tests/client_tui/test_store_encryption.py):

    python -m tests.client_tui.store_child HOME STEP
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from client_tui.services.session import Session
from tests.factories import PASSWORD


def main(home: str, kill_at: str) -> None:
    def step(name: str) -> None:
        print(name, flush=True)
        if name == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    session = Session(Path(home))
    session.unlock(PASSWORD, step=step)
    session.close()
    print("unlocked", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
