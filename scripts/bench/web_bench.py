"""Page times of the diary and the reports on a large school with a full year recorded.

    python -m scripts.bench.web_bench [--pupils 1000] [--quick] [--runs 40] [--output PATH]
                                      [--report-runs 10] [--school PATH]

The school: the demo school (scripts/seed_demo.py, 76 pupils in grades 1-11) with the whole
year 2026/27 recorded through the real sync path, then scaled by copying its directory and
consolidated rows (lessons, attendance, marks, period marks) under new ids until it has
`--pupils` pupils: each copy is a parallel set of classes 1-11 with another letter. The
correction history (events) is not copied, so the correction log covers the first copy only.

Measured in-process through Litestar's TestClient, logged in with a session cookie: the
parent's diary page (one week, period marks, the year's chart), and every report for the
whole year and all classes, each `--report-runs` times (median, p99 and the median as a
multiple of the baseline); the heaviest one also as PDF. Baseline in the same run:
GET /api/v1/health, the cheapest route through the same stack.
`--quick` is the smoke size (the first two weeks of lessons, one copy); it writes
docs/BENCHMARKS.md only with `--output`. `--school PATH` keeps the built school in that file
and reuses it on the next run with the same size (building it takes about a minute), which is
also the database to profile the reports on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import platform
import re
import statistics
import tempfile
import time
from pathlib import Path

from litestar.testing import TestClient

from scripts.bench.sync_bench import DOCS, write_section
from scripts.seed_demo import Q1, YEAR, build_demo_school
from server.app import create_app
from server.config import ServerConfig
from server.reports.catalog import REPORTS
from server.seeding import load_accounts, load_directory, load_journals
from server.storage import web as web_storage
from server.storage.db import connect, create_schema, get_meta, set_meta, transaction

Q1_ENDS = Q1.ends
BENCH_META = "web_bench_school"  # meta key: what build_school made, to reuse the file
LETTERS = "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЩЭЮЯ"
PASSWORD = "bench-password"
# tables copied per clone, and the id columns that get the clone's suffix
CLONED = {
    "classes": ("id",),
    "students": ("id",),
    "parents": ("id",),
    "memberships": ("student_id", "class_id"),
    "parent_links": ("parent_id", "student_id"),
    "teaching": ("class_id",),
    "class_teachers": ("class_id",),
    "journals": ("id", "class_id"),
    "lessons": ("journal_id",),
    "attendance": ("journal_id", "student_id"),
    "marks": ("journal_id", "student_id"),
    "period_marks": ("journal_id", "student_id"),
    "lesson_facts": ("journal_id",),  # the report aggregates, copied like the rows they count
    "entry_delays": ("journal_id",),
    "absence_facts": ("journal_id", "student_id"),
}
# tables whose journal id names the class (year~class~subject) and so gets the clone's suffix
JOURNAL_TABLES = (
    "journals",
    "lessons",
    "attendance",
    "marks",
    "period_marks",
    "lesson_facts",
    "entry_delays",
    "absence_facts",
)


def build_school(path: Path, pupils: int, quick: bool) -> dict:
    until = YEAR.starts + dt.timedelta(days=13) if quick else YEAR.ends
    school = build_demo_school(today=until + dt.timedelta(days=1), lessons_until=until)
    conn = connect(path)
    create_schema(conn)
    load_directory(conn, school.directory, school.parents, school.parent_links)
    parent = next(a for a in school.accounts if a.role.value == "parent")
    deputy = next(a for a in school.accounts if a.role.value == "deputy")
    load_accounts(
        conn,
        [
            (parent.login, PASSWORD, parent.role, parent.person_id),
            (deputy.login, PASSWORD, deputy.role, deputy.person_id),
        ],
        time.time(),
    )
    started = time.perf_counter()
    load_journals(conn, ServerConfig(database=path), school.directory, school.events)
    load_seconds = time.perf_counter() - started
    copies = 1 if quick else math.ceil(pupils / len(school.directory.students))
    with transaction(conn):
        for k in range(1, copies):
            _clone(conn, k)
        web_storage.set_consent(conn, parent.person_id, "given", "bench", time.time(), "")
    child = conn.execute(
        "SELECT student_id FROM parent_links WHERE parent_id = ?", (parent.person_id,)
    ).fetchone()[0]
    counts = {
        t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("students", "classes", "lessons", "marks", "attendance")
    }
    conn.execute("ANALYZE")
    info = {
        "parent": parent.login,
        "deputy": deputy.login,
        "child": child,
        "counts": counts,
        "events": sum(len(v) for v in school.events.values()),
        "load_seconds": load_seconds,
        "until": until.isoformat(),
        "size": [pupils, quick],
    }
    with transaction(conn):
        set_meta(conn, BENCH_META, json.dumps(info))
    conn.close()
    return info


def school_at(path: Path, pupils: int, quick: bool) -> dict:
    """The bench school in `path`: reused when it was built there with the same size."""
    if path.exists():
        conn = connect(path)
        try:
            saved = get_meta(conn, BENCH_META)
        finally:
            conn.close()
        if saved and json.loads(saved)["size"] == [pupils, quick]:
            conn = connect(path)
            create_schema(conn)  # indexes added to the schema since the school was built
            conn.execute("ANALYZE")
            conn.close()
            return json.loads(saved)
        for stale in path.parent.glob(path.name + "*"):
            stale.unlink()
    return build_school(path, pupils, quick)


def _clone(conn, k: int) -> None:
    """One more parallel school: every id of the original rows gets the suffix `.c<k>`."""
    suffix, letter = f".c{k}", LETTERS[k % len(LETTERS)]
    for table, id_columns in CLONED.items():
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        journal_key = "id" if table == "journals" else "journal_id"
        joins_journal = journal_key in columns and table in JOURNAL_TABLES
        select = []
        for c in columns:
            if joins_journal and c == journal_key:
                # a journal id is year~class~subject: its class part gets the suffix
                select.append(f"replace({c}, '~' || j_class || '~', '~' || j_class || '{suffix}~')")
            elif c in id_columns:
                select.append(f"{c} || '{suffix}'")
            elif table == "classes" and c == "letter":
                select.append(f"'{letter}'")
            else:
                select.append(c)
        if table == "journals":
            source = (
                "(SELECT t.*, t.class_id AS j_class FROM journals t WHERE t.id NOT LIKE '%.c%')"
            )
        elif joins_journal:
            source = (
                f"(SELECT t.*, jj.class_id AS j_class FROM {table} t "
                f"JOIN journals jj ON jj.id = t.journal_id WHERE jj.class_id NOT LIKE '%.c%')"
            )
        else:
            source = f"(SELECT * FROM {table} WHERE {id_columns[0]} NOT LIKE '%.c%')"
        conn.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(select)} FROM {source}"
        )


def _login(client: TestClient, login: str) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    data = {"login": login, "password": PASSWORD, "csrf": token, "next": "/"}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text


def _times(client: TestClient, url: str, runs: int) -> tuple[list[float], int]:
    size, times = 0, []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        size = len(response.content)
    return times, size


def _row(label: str, times: list[float], base: float, size: object) -> str:
    median = statistics.median(times)
    return (
        f"| {label} | {len(times)} | {median * 1000:.1f} | {_p99(times) * 1000:.1f} | "
        f"{median / base:.0f}× | {size} |"
    )


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


def run(
    pupils: int, runs: int, quick: bool, school: Path | None = None, report_runs: int = 10
) -> tuple[str, dict]:
    with tempfile.TemporaryDirectory() as folder:
        path = school or Path(folder) / "bench.sqlite"
        info = school_at(path, pupils, quick) | {"load": os.getloadavg()}
        until = dt.date.fromisoformat(info["until"])
        config = ServerConfig(database=path)
        family = TestClient(create_app(config), base_url="http://bench.local")
        office = TestClient(create_app(config), base_url="http://bench.local")
        with family, office:
            _login(family, info["parent"])
            _login(office, info["deputy"])
            week = (until - dt.timedelta(days=until.weekday() + 7)).isoformat()
            health, _ = _times(family, "/api/v1/health", runs)
            diary, diary_size = _times(family, f"/diary/{info['child']}?week={week}", runs)
            reports = {name: _times(office, f"/reports/{name}", report_runs) for name in REPORTS}
            # the whole-year results count year marks; the demo school has quarter marks only,
            # so the results by pupils are also timed for the first quarter (issue 16)
            q1 = f"date_from={YEAR.starts.isoformat()}&date_to={Q1_ENDS.isoformat()}"
            quarter = _times(office, f"/reports/attestation?{q1}", report_runs)
            heaviest = max(reports, key=lambda name: statistics.median(reports[name][0]))
            pdf, _ = _times(office, f"/reports/{heaviest}?format=pdf", 1)
    c = info["counts"]
    ms = 1000
    base = statistics.median(health)
    lines = [
        f"School: {c['students']} pupils, {c['classes']} classes, {c['lessons']} lessons, "
        f"{c['marks']} marks, {c['attendance']} attendance rows (lessons until "
        f"{until:%d.%m.%Y}); one copy loaded through sync: {info['events']} events in "
        f"{info['load_seconds']:.1f} s. Python {platform.python_version()}, in-process.",
        "",
        "| page | runs | median ms | p99 ms | median ÷ baseline | bytes |",
        "|---|---|---|---|---|---|",
        _row("GET /api/v1/health (baseline)", health, base, ""),
        _row("diary (one week, period marks, year chart)", diary, base, diary_size),
        *(
            _row(f"report {name}, whole year, all classes (HTML)", times, base, size)
            for name, (times, size) in sorted(
                reports.items(), key=lambda i: -statistics.median(i[1][0])
            )
        ),
        _row("report attestation, 1st quarter (period marks, HTML)", quarter[0], base, quarter[1]),
        f"| the heaviest report ({heaviest}) as PDF | 1 | {pdf[0] * ms:.1f} | | | |",
        "",
        "Load average at the start and the end: "
        f"{info['load'][0]:.1f} → {os.getloadavg()[0]:.1f} (1 min).",
    ]
    return "\n".join(lines), {
        "diary_size": diary_size,
        "reports": {name: statistics.median(t) for name, (t, _) in reports.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--report-runs", type=int, default=10)
    parser.add_argument("--school", type=Path, help="build the school here once and reuse it")
    args = parser.parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request
    runs = 5 if args.quick else args.runs
    table, _ = run(
        args.pupils, runs, args.quick, args.school, 2 if args.quick else args.report_runs
    )
    print(table)
    output = args.output or (None if args.quick else DOCS)
    if output:
        section = "## Web pages"
        text = f"{section}\n\n`scripts/bench/web_bench.py`, {dt.date.today():%Y-%m-%d}\n\n{table}\n"
        write_section(text, output, section)  # replaces the previous run's section
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
