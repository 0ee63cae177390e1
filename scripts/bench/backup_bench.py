"""Benchmark: backup and restore of a school of about 1,000 pupils with a full year recorded.

    python -m scripts.bench.backup_bench                  # 1,000 pupils, writes docs/BENCHMARKS.md
    python -m scripts.bench.backup_bench --pupils 80 --until 2026-09-30 --no-write   # a look

The school is the archive benchmark's (scripts/bench/archive_bench.py: the demo school copied
side by side, a year recorded); `--reuse` keeps one built by an earlier run of either. Each
measure is taken `--runs` times in one run, interleaved, and given as median and maximum:

- baseline: a plain copy of the database file (`shutil.copyfile`, the server stopped, WAL
  checkpointed), what a sysadmin's `cp` would take; every other time is a ratio to it; and
  the same copy fsynced and checksummed, the guarantees `backup` gives;
- `backup`: the online backup API (server/storage/backup.py) and the SHA-256 file, idle;
- `backup` while a writer commits a small transaction after another, as syncs do: the writer's
  commits during the copy and its slowest commit say whether the server had to wait;
- `restore`: checksum, quick_check of the copy, the backup API into a fresh file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

from scripts.bench.archive_bench import build_school
from scripts.bench.sync_bench import write_section
from scripts.seed_demo import YEAR
from server.storage import backup
from server.storage.db import connect, transaction

SECTION = "## Backup and restore (issue 14)"


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _writer(db: Path, stop: threading.Event, out: dict) -> None:
    """Small transactions one after another, as a busy sync service commits them."""
    conn = connect(db)
    latencies = []
    try:
        while not stop.is_set():
            started = time.perf_counter()
            with transaction(conn):
                conn.execute(
                    "INSERT INTO audit_log (at, login, role, action, detail) "
                    "VALUES (?, 'bench', 'sysadmin', 'backup_bench', '')",
                    (time.time(),),
                )
            latencies.append(time.perf_counter() - started)
        conn.execute("DELETE FROM audit_log WHERE action = 'backup_bench'")
    finally:
        conn.close()
    out["commits"] = len(latencies)
    out["max_commit"] = max(latencies, default=0.0)


def _copy_sync_sum(db: Path, out: Path) -> None:
    """`cp`, `sync` and `sha256sum`: the same guarantees as `backup`, server stopped."""
    shutil.copyfile(db, out)
    with open(out, "rb") as f:
        os.fsync(f.fileno())
    backup._sha256(out)


def measure(db: Path, work: Path, runs: int) -> dict:
    conn = connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    times: dict[str, list[float]] = {
        "copy": [],
        "copy_sum": [],
        "backup": [],
        "busy": [],
        "restore": [],
    }
    busy: list[dict] = []
    quiet: list[dict] = []  # the writer alone, as long as each busy backup took
    warm = work / "warm.sqlite"  # the first read of the file is not anyone's measure
    shutil.copyfile(db, warm)
    warm.unlink()
    for n in range(runs):
        plain = work / f"plain-{n}.sqlite"
        times["copy"].append(_timed(lambda p=plain: shutil.copyfile(db, p)))
        plain.unlink()
        times["copy_sum"].append(_timed(lambda p=plain: _copy_sync_sum(db, p)))
        plain.unlink()
        out = work / f"backup-{n}.sqlite"
        times["backup"].append(_timed(lambda o=out: backup.backup(db, o)))
        target = work / f"restored-{n}" / "zhurnal.sqlite"
        times["restore"].append(_timed(lambda o=out, t=target: backup.restore(t, o)))
        shutil.rmtree(target.parent)
        stop, written = threading.Event(), {}
        writer = threading.Thread(target=_writer, args=(db, stop, written))
        writer.start()
        try:
            busy_out = work / f"busy-{n}.sqlite"
            times["busy"].append(_timed(lambda o=busy_out: backup.backup(db, o)))
        finally:
            stop.set()
            writer.join()
        busy.append(written)
        stop, alone = threading.Event(), {}  # the same writer for as long, no backup running
        writer = threading.Thread(target=_writer, args=(db, stop, alone))
        writer.start()
        stop.wait(times["busy"][-1])
        stop.set()
        writer.join()
        quiet.append(alone)
        for path in (out, busy_out):
            path.unlink()
            backup.checksum_path(path).unlink()
    return {
        "size": db.stat().st_size,
        "times": times,
        "commits": [b["commits"] for b in busy],
        "max_commit": max(b["max_commit"] for b in busy),
        "alone_commits": [q["commits"] for q in quiet],
        "alone_max_commit": max(q["max_commit"] for q in quiet),
    }


def table(school: dict, figures: dict, load: tuple[str, str], runs: int) -> str:
    times = figures["times"]
    base = statistics.median(times["copy"])

    def row(name: str, key: str, note: str = "") -> str:
        median, worst = statistics.median(times[key]), max(times[key])
        return f"| {name} | {median:.2f} s | {worst:.2f} s | {median / base:.2f}× | {note} |"

    commits = figures["commits"]
    alone = figures["alone_commits"]
    busy_note = (
        f"writer committed {min(commits)}–{max(commits)} transactions during the copy, "
        f"slowest commit {figures['max_commit'] * 1000:.0f} ms; the same writer alone for as "
        f"long: {min(alone)}–{max(alone)}, slowest {figures['alone_max_commit'] * 1000:.0f} ms"
    )
    return "\n".join(
        [
            SECTION,
            "",
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, `python -m "
            f"scripts.bench.backup_bench --pupils {school['pupils_asked']}`; {runs} runs of "
            "each measure, interleaved. Machine: 2 shared cores; load average before / after: "
            f"{load[0]} / {load[1]}.",
            "",
            f"School: {school['pupils']} pupils, {school['journals']} journals, "
            f"{school['events']:,} events; database {figures['size'] / 1e6:.0f} MB; the plain "
            "copy does not fsync, `backup` does (and reads the copy again for its checksum).",
            "",
            "| measure | median | max | median ÷ plain copy | note |",
            "|---|---|---|---|---|",
            row("baseline: plain file copy (server stopped)", "copy"),
            row("plain copy + fsync + SHA-256 (server stopped)", "copy_sum"),
            row("`backup`: online backup API + SHA-256 file, idle", "backup"),
            row("`backup` while a writer commits", "busy", busy_note),
            row("`restore`: checksum, quick_check, backup API into a new file", "restore"),
            "",
        ]
    )


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1000)
    parser.add_argument("--work", type=Path, default=Path("var/bench-archive"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not write docs/BENCHMARKS.md")
    parser.add_argument(
        "--until", type=dt.date.fromisoformat, default=YEAR.ends, help="lessons up to this day"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the school of an earlier run")
    args = parser.parse_args(argv)
    work = args.work / f"p{args.pupils}"
    work.mkdir(parents=True, exist_ok=True)
    db, facts = work / "school.sqlite", work / "school.json"
    if args.reuse and db.exists() and facts.exists():
        school = json.loads(facts.read_text())
    else:
        print(f"Школа на {args.pupils} учеников…", file=sys.stderr)
        school = build_school(db, args.pupils, args.until)
        facts.write_text(json.dumps(school))
    school["pupils_asked"] = args.pupils
    scratch = work / "backup-bench"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    before = loadavg()
    figures = measure(db, scratch, args.runs)
    after = loadavg()
    shutil.rmtree(scratch, ignore_errors=True)
    text = table(school, figures, (before, after), args.runs)
    print(text)
    if not args.no_write:
        write_section(text, section=SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
