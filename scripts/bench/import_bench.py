"""Importing a school's lists: a 1,000-pupil school (pupils, about 1,600 parent lines, 80 staff,
class teachers, the load) through `server.lists` — preview, then apply — against the baseline
of only reading the same files with csv / openpyxl, in the same run.

    python -m scripts.bench.import_bench [--pupils 1000] [--repeat 3] [--write]

Times are the best of `--repeat` runs; peak memory is tracemalloc's peak of Python allocations
during one run (the same meter for both sides, so the ratio is fair). `--write` puts the table
into docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import platform
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import msgspec
import openpyxl

from scripts.bench.sync_bench import write_section
from scripts.school_lists import csv_bytes, school_lists, xlsx_bytes
from server import lists
from server.importer import add_school
from server.lists import ListKind
from server.lists.specs import LOAD_ORDER as ORDER
from server.storage.db import connect, create_schema

SECTION = "## School lists import"
TODAY = dt.date(2026, 12, 4)


class Row(msgspec.Struct, frozen=True, kw_only=True):
    what: str
    lines: int
    baseline_s: float
    import_s: float
    baseline_peak: int
    import_peak: int

    @property
    def time_ratio(self) -> float:
        return self.import_s / self.baseline_s

    @property
    def memory_ratio(self) -> float:
        return self.import_peak / self.baseline_peak


def read_only(files: dict[ListKind, bytes]) -> int:
    """The baseline: every cell of every file read by csv or openpyxl, nothing else."""
    cells = 0
    for data in files.values():
        if data[:2] == b"PK":
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            for row in book.worksheets[0].iter_rows(values_only=True):
                cells += len(row)
            book.close()
        else:
            for row in csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"):
                cells += len(row)
    return cells


def fresh_database(folder: Path) -> Path:
    path = folder / f"bench-{time.monotonic_ns()}.sqlite"
    conn = connect(path)
    create_schema(conn)
    add_school(conn, school_id="bench", name="Школа", district="Р", first_year=2026)
    conn.close()
    return path


def import_all(path: Path, files: dict[ListKind, bytes], *, again: bool = False) -> int:
    """Preview then apply every list, in the order a school brings them."""
    conn = connect(path)
    written = 0
    try:
        for kind in ORDER:
            shown = lists.preview(conn, kind, files[kind], today=TODAY)
            assert shown.ok, shown.errors[:3]
            result = lists.apply(conn, kind, files[kind], today=TODAY)
            assert result.unchanged is again, (kind, result.additions[:3], result.changes[:3])
            written += len(result.additions) + len(result.changes)
    finally:
        conn.close()
    return written


def measure(run: Callable[[], object], repeat: int, setup: Callable[[], None] = lambda: None):
    best = float("inf")
    for _ in range(repeat):
        setup()
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    setup()
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak


class Target:
    """The database an import run writes: a fresh one before each first import."""

    def __init__(self, folder: Path):
        self.folder, self.path = folder, folder / "none.sqlite"

    def fresh(self) -> None:
        self.path = fresh_database(self.folder)


def bench(pupils: int, repeat: int, groups: bool = False) -> list[Row]:
    rows_of = school_lists(pupils, groups=groups)
    sets = {
        "CSV": {k: csv_bytes(k, rows_of[k]) for k in ORDER},
        "XLSX": {k: xlsx_bytes(k, rows_of[k]) for k in ORDER},
    }
    lines = sum(len(v) for v in rows_of.values())
    out = []
    with tempfile.TemporaryDirectory() as folder:
        for name, files in sets.items():
            base_s, base_peak = measure(lambda f=files: read_only(f), repeat)
            target = Target(Path(folder))
            imp_s, imp_peak = measure(
                lambda f=files, t=target: import_all(t.path, f), repeat, target.fresh
            )
            again_s, again_peak = measure(
                lambda f=files, t=target: import_all(t.path, f, again=True), repeat
            )
            for what, took, peak in (
                ("first import", imp_s, imp_peak),
                ("the same files again (no change)", again_s, again_peak),
            ):
                out.append(
                    Row(
                        what=f"{name}: {what}",
                        lines=lines,
                        baseline_s=base_s,
                        import_s=took,
                        baseline_peak=base_peak,
                        import_peak=peak,
                    )
                )
    return out


class NextYear(msgspec.Struct, frozen=True, kw_only=True):
    pupils: int
    open_s: float
    first_sync: dict[str, int]  # the teacher's first sync of year 1: requests, rounds, bytes
    after: dict[str, int]  # their first sync after the next year is opened


def _report(report) -> dict[str, int]:
    return {
        "requests": report.requests,
        "rounds": report.rounds,
        "up": report.bytes_sent,
        "down": report.bytes_received,
        "complete": int(report.complete),
    }


def next_year(pupils: int, folder: Path, groups: bool = False) -> NextYear:
    """Import the school, log a teacher's laptop in and sync, open the next year, sync again."""
    from litestar.testing import TestClient

    from client_tui.services.session import Session
    from server.app import create_app
    from server.auth.principal import Principal
    from server.auth.service import create_account
    from server.config import ServerConfig
    from server.lists.next_year import open_next_year
    from shared.model import Role

    rows_of = school_lists(pupils, groups=groups)
    path = fresh_database(folder)
    import_all(path, {k: csv_bytes(k, rows_of[k]) for k in ORDER})
    conn = connect(path)
    teacher = conn.execute(
        "SELECT teacher_id, count(*) FROM teaching GROUP BY teacher_id ORDER BY 2 DESC LIMIT 1"
    ).fetchone()[0]
    director = conn.execute("SELECT id FROM staff WHERE roles LIKE '%director%'").fetchone()[0]
    create_account(conn, login="teacher", password="bench-password", role=Role.TEACHER,
                   person_id=teacher)  # fmt: skip
    config = ServerConfig(database=path)
    with TestClient(create_app(config), base_url="http://bench.local") as client:
        laptop = Session(folder / "laptop", http=client)
        laptop.login("http://bench.local", "teacher", "bench-password", device_name="ноутбук")
        first = _report(laptop.sync())
        principal = Principal(
            login="director", role=Role.DIRECTOR, roles=(Role.DIRECTOR,), person_id=director,
            device_id="", school_id="bench",
        )  # fmt: skip
        started = time.perf_counter()
        open_next_year(conn, principal, today=dt.date(2027, 6, 1))
        took = time.perf_counter() - started
        laptop.refresh_directory()
        after = _report(laptop.sync())
        laptop.close()
    conn.close()
    return NextYear(pupils=pupils, open_s=took, first_sync=first, after=after)


def next_year_table(result: NextYear) -> str:
    lines = [
        "| Step | Time | Requests | Rounds | Up | Down | Complete |",
        "|---|---|---|---|---|---|---|",
        f"| Open the next year ({result.pupils} pupils promoted, load carried) "
        f"| {result.open_s * 1000:.0f} ms | — | — | — | — | — |",
    ]
    for title, r in (
        ("Teacher's first sync of the first year (baseline)", result.first_sync),
        ("Same teacher's first sync after the next year is opened", result.after),
    ):
        lines.append(
            f"| {title} | — | {r['requests']} | {r['rounds']} | {r['up']} B | {r['down']} B "
            f"| {'yes' if r['complete'] else 'no'} |"
        )
    return "\n".join(lines)


def table(rows: list[Row]) -> str:
    lines = [
        "| Run | Lines | Read only | Import (preview + apply) | Time ratio | Peak, read only "
        "| Peak, import | Memory ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.what} | {r.lines} | {r.baseline_s * 1000:.0f} ms | {r.import_s * 1000:.0f} ms "
            f"| {r.time_ratio:.1f}× | {r.baseline_peak / 2**20:.1f} MB "
            f"| {r.import_peak / 2**20:.1f} MB | {r.memory_ratio:.1f}× |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    parser.add_argument(
        "--groups", action="store_true", help="the pupils' list says who is in which group"
    )
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    started = time.perf_counter()
    rows = bench(args.pupils, args.repeat, args.groups)
    with tempfile.TemporaryDirectory() as folder:
        opened = next_year(args.pupils, Path(folder), args.groups)
    load_after = os.getloadavg()
    text = "\n\n".join(
        [
            SECTION,
            f"`python -m scripts.bench.import_bench --pupils {args.pupils} --repeat "
            f"{args.repeat}{' --groups' if args.groups else ''}` — {dt.date.today()}, "
            f"{platform.platform()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}; load average {load_before[0]:.1f} before, "
            f"{load_after[0]:.1f} after (the machine is shared: read the ratios, which come "
            f"from the same run); the run took {time.perf_counter() - started:.0f} s.",
            "The school of `scripts/school_lists.py`: pupils with СНИЛС for 70 %, parents "
            "(two for 60 % of families, a quarter of families with two children in different "
            "classes), staff, a class teacher per class, the load with English in two groups"
            + (
                " and the pupils' list saying who is in which group (column «Группы»). "
                if args.groups
                else ". "
            )
            + "Import is `server.lists.preview` then `server.lists.apply` for every list, on a "
            "fresh SQLite database (WAL, synchronous=FULL). Read only is csv.reader / openpyxl "
            "read-only over the same bytes. Times are the best of the repeats.",
            table(rows),
            "Then a teacher with the most classes logs a laptop in (in-process server, "
            "`TestClient`) and syncs; the director opens the next year "
            "(`server.lists.next_year.open_next_year`: periods, promotions, classes, load, "
            "class teachers); the laptop refreshes its directory and syncs again. The journals "
            "hold no entries yet, so the syncs carry the empty documents only.",
            next_year_table(opened),
        ]
    )
    print(text)
    if args.write:
        write_section(text + "\n", section=SECTION)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
