"""The per-pupil attendance summary on a 1,000-pupil school, a whole year: before and after
counting it from the absences kept with their lesson's date (issue 16).

    python -m scripts.bench.attendance_bench [--pupils 1000] [--quick] [--runs 10]
                                             [--school PATH] [--output PATH]

The school is web_bench's (the demo school's year through the real sync path, copied to
`--pupils`; `--school PATH` keeps it for the next run). In one run, interleaved so that the
machine's load falls on both alike: the report as first written (absences joined to their
lessons, counted per pupil and day in Python; kept as the reference in
tests/server/reports_reference.py, which the equivalence test holds the new one to), the
report now (`server.storage.attestation.pupil_attendance`, one SQL statement), each built
in-process on the same connection, for the whole year and for the first quarter; then the
report's page, beside the baseline GET /api/v1/health through the same stack. The two
reports must give the same rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from litestar.testing import TestClient

from scripts.bench.sync_bench import DOCS, write_section
from scripts.bench.web_bench import Q1_ENDS, _login, _p99, _times, school_at
from scripts.seed_demo import YEAR
from server.app import create_app
from server.config import ServerConfig
from server.reports.attestation import attendance_summary
from server.reports.dataset import Filters, load
from server.storage import directory as directory_storage
from server.storage.db import connect
from tests.server.reports_reference import attendance_summary as first_written

SECTION = "## The attendance summary, before and after (issue 16)"


def _time(build: Callable, *args) -> float:
    started = time.perf_counter()
    build(*args)
    return time.perf_counter() - started


def run(pupils: int, runs: int, quick: bool, school: Path | None = None) -> tuple[str, dict]:
    with tempfile.TemporaryDirectory() as folder:
        path = school or Path(folder) / "bench.sqlite"
        info = school_at(path, pupils, quick)
        load_before = os.getloadavg()[0]
        conn = connect(path)
        directory = directory_storage.load_full(conn)
        scopes = {
            "whole year": Filters(),
            "1st quarter": Filters(date_from=YEAR.starts, date_to=Q1_ENDS),
        }
        times: dict[tuple[str, str], list[float]] = {}
        for label, filters in scopes.items():
            data = load(directory, filters)
            before, after = first_written(conn, data), attendance_summary(conn, data)
            assert before.rows == after.rows, f"{label}: the summaries differ"
            for _ in range(runs):
                for name, build in (("before", first_written), ("after", attendance_summary)):
                    key = (label, name)
                    times.setdefault(key, []).append(_time(build, conn, data))
        rows = len(after.rows)
        conn.close()
        config = ServerConfig(database=path)
        with TestClient(create_app(config), base_url="http://bench.local") as office:
            _login(office, info["deputy"])
            health, _ = _times(office, "/api/v1/health", runs * 4)
            page, size = _times(office, "/reports/attendance", runs)
    base = statistics.median(health)
    c = info["counts"]
    lines = [
        f"School: {c['students']} pupils, {c['classes']} classes, {c['lessons']} lessons, "
        f"{c['attendance']} attendance rows; the summary has {rows} pupils with an absence or "
        "lateness. In-process, one connection; times in ms.",
        "",
        "| what | runs | median | p99 | median ÷ health | p99 ÷ health |",
        "|---|---|---|---|---|---|",
        _line("GET /api/v1/health (baseline)", health, base),
    ]
    ratios = {}
    for label in scopes:
        old, new = times[(label, "before")], times[(label, "after")]
        lines.append(_line(f"{label}: report as first written (before)", old, base))
        lines.append(_line(f"{label}: report now (after)", new, base))
        ratios[label] = (
            statistics.median(old) / statistics.median(new),
            _p99(old) / _p99(new),
        )
    lines.append(_line(f"page /reports/attendance, whole year ({size} bytes)", page, base))
    lines += [
        "",
        *(
            f"{label}: after is {m:.1f}× faster at the median, {p:.1f}× at p99."
            for label, (m, p) in ratios.items()
        ),
        f"Load average (1 min) at the start and the end: {load_before:.1f} → "
        f"{os.getloadavg()[0]:.1f}.",
    ]
    return "\n".join(lines), {"ratios": ratios, "rows": rows}


def _line(label: str, times: list[float], base: float) -> str:
    median, p99 = statistics.median(times), _p99(times)
    return (
        f"| {label} | {len(times)} | {median * 1000:.1f} | {p99 * 1000:.1f} | "
        f"{median / base:.0f}× | {p99 / base:.0f}× |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--school", type=Path, help="build the school here once and reuse it")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    table, _ = run(args.pupils, 3 if args.quick else args.runs, args.quick, args.school)
    print(table)
    output = args.output or (None if args.quick else DOCS)
    if output:
        text = f"{SECTION}\n\n`scripts/bench/attendance_bench.py`, {dt.date.today():%Y-%m-%d}\n\n"
        write_section(text + table + "\n", output, SECTION)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
