"""Benchmark of the teacher's Textual app on a full school year's journal.

    python -m scripts.bench.tui_bench                 # 30 pupils, 300 keypresses
    python -m scripts.bench.tui_bench --write-docs    # and put the table in docs/BENCHMARKS.md

Measures, on one journal of a 30-pupil class with every lesson of a school year recorded
(attendance for all, marks for a quarter of the class each lesson):
- keypress → committed entry: the app under Textual's Pilot, a mark key pressed on a grid cell,
  timed until the press is handled (the entry committed to the local store and the cell
  redrawn); every press is checked to have added exactly one entry to the outbox;
- the same entry through the service layer alone (JournalEditor.set_mark), and the floor it
  stands on: a bare durable SQLite commit of one outbox row (baseline, same run);
- opening the year's journal: a fresh profile's first fold and month grid, and the app from
  «Мои журналы» to the grid on screen;
- memory: resident set size of the process before Textual is loaded and with the app running.

The profile is built offline (no server): typing never touches the network, so a server would
change nothing here. The school year is 2025/26 so that every lesson is in the past.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import apsw
import msgspec

from client_tui.services import store_crypto
from client_tui.services.editor import JournalEditor
from client_tui.services.session import Session
from scripts.bench.sync_bench import write_section
from shared.model import (
    AttendanceCode,
    Directory,
    JournalInfo,
    Membership,
    Period,
    PeriodKind,
    School,
    SchoolClass,
    SchoolYear,
    Staff,
    Student,
    Subject,
    TeachingAssignment,
    journal_id,
)

ROOT = Path(__file__).resolve().parents[2]
YEAR_ID, CLASS_ID, SUBJECT_ID, TEACHER = "2025-2026", "2025-2026-7", "math", "t-bench"
JOURNAL = journal_id(YEAR_ID, CLASS_ID, SUBJECT_ID)
YEAR_START, YEAR_END = dt.date(2025, 9, 1), dt.date(2026, 5, 31)
HOLIDAYS = [
    (dt.date(2025, 10, 27), dt.date(2025, 11, 4)),
    (dt.date(2025, 12, 29), dt.date(2026, 1, 11)),
    (dt.date(2026, 3, 23), dt.date(2026, 3, 31)),
]
LAST_NAMES = [
    "Алексеев", "Борисов", "Васильев", "Григорьев", "Дмитриев", "Егоров", "Жуков", "Зайцев",
    "Иванов", "Казаков", "Лебедев", "Морозов", "Новиков", "Орлов", "Павлов", "Романов",
    "Семёнов", "Тарасов", "Ульянов", "Фёдоров", "Харитонов", "Цветков", "Чернов", "Шубин",
    "Щукин", "Юдин", "Яковлев", "Андреев", "Белов", "Волков",
]  # fmt: skip


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def school_days(per_week: int) -> list[dt.date]:
    """Days of the subject's lessons: the first `per_week` weekdays, holidays excluded."""
    days, day = [], YEAR_START
    while day <= YEAR_END:
        holiday = any(a <= day <= b for a, b in HOLIDAYS)
        if day.weekday() < per_week and not holiday:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def directory(students: int) -> Directory:
    quarters = [
        (1, dt.date(2025, 9, 1), dt.date(2025, 10, 26)),
        (2, dt.date(2025, 11, 5), dt.date(2025, 12, 28)),
        (3, dt.date(2026, 1, 12), dt.date(2026, 3, 22)),
        (4, dt.date(2026, 4, 1), dt.date(2026, 5, 31)),
    ]
    pupils = tuple(
        Student(id=f"s-{i}", last_name=LAST_NAMES[i % len(LAST_NAMES)], first_name=f"Имя{i}")
        for i in range(students)
    )
    return Directory(
        school=School(id="bench", name="Школа для замеров"),
        year=SchoolYear(
            id=YEAR_ID, school_id="bench", name="2025/2026", starts=YEAR_START, ends=YEAR_END
        ),
        periods=tuple(
            Period(
                id=f"{YEAR_ID}-q{n}",
                year_id=YEAR_ID,
                kind=PeriodKind.QUARTER,
                number=n,
                name=f"{n} четверть",
                starts=a,
                ends=b,
            )
            for n, a, b in quarters
        ),
        classes=(SchoolClass(id=CLASS_ID, year_id=YEAR_ID, grade=7),),
        subjects=(Subject(id=SUBJECT_ID, name="Математика"),),
        students=pupils,
        memberships=tuple(
            Membership(student_id=p.id, class_id=CLASS_ID, starts=YEAR_START) for p in pupils
        ),
        staff=(Staff(id=TEACHER, last_name="Замерова", first_name="Анна"),),
        teaching=(
            TeachingAssignment(teacher_id=TEACHER, class_id=CLASS_ID, subject_id=SUBJECT_ID),
        ),
        journals=(
            JournalInfo(
                id=JOURNAL, year_id=YEAR_ID, class_id=CLASS_ID, subject_id=SUBJECT_ID, writable=True
            ),
        ),
    )


BENCH_PASSWORD = "пароль-замера"


@contextlib.contextmanager
def without_encryption() -> Iterator[None]:
    """The store opened as a plain SQLite file through the same APSW build: everything as in
    the product but the cipher and the key's derivation, for the cost of encryption."""
    encrypted = store_crypto.unlock

    def plain(path: Path, password: str, **_: object) -> tuple[apsw.Connection, bytes]:
        return apsw.Connection(str(path)), b""

    store_crypto.unlock = plain
    try:
        yield
    finally:
        store_crypto.unlock = encrypted


def offline_profile(home: Path, students: int) -> Session:
    """A profile as a login leaves it (token, device, directory), without a server."""
    session = Session(home)
    session.unlock(BENCH_PASSWORD)  # a new store, keyed as a login keys it
    with session.store.transaction():
        session.store.put("server_url", "http://127.0.0.1:9")  # nothing listens there
        session.store.put("login", "bench")
        session.store.put("token", "bench-token")
        session.store.put("device_id", "d-bench")
        session.store.put("person_id", TEACHER)
        session.store.put("directory", msgspec.msgpack.encode(directory(students)))
    session.close()
    return Session(home, password=BENCH_PASSWORD)


def fill_year(session: Session, per_week: int) -> tuple[int, float]:
    """Every lesson of the year: a column of attendance, a few absences, marks for a quarter
    of the class. Returns (events, seconds)."""
    editor = JournalEditor(session.book)
    roster = [s.id for s in session.directory.students]
    started = time.perf_counter()
    for index, day in enumerate(school_days(per_week)):
        lesson = editor.save_lesson(JOURNAL, date=day, topic=f"Тема {index + 1}").events[0]
        absent = roster[index % len(roster)]
        editor.fill_column(JOURNAL, lesson.lesson_id, roster)
        editor.set_attendance(JOURNAL, lesson.lesson_id, absent, AttendanceCode.ABSENT)
        marked = [s for i, s in enumerate(roster) if (i + index) % 4 == 0 and s != absent]
        for student in marked:
            editor.set_mark(JOURNAL, lesson.lesson_id, student, 2 + (index + len(student)) % 4)
    return len(session.book.doc(JOURNAL)), time.perf_counter() - started


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bare_commit_ms(session: Session, count: int) -> list[float]:
    """Baseline: one outbox row committed durably (WAL, synchronous=FULL), nothing else."""
    samples = []
    for i in range(count):
        started = time.perf_counter()
        with session.store.transaction():
            session.store.add_outbox(f"bench-{i}", "bench~baseline~x", "{}")
        samples.append((time.perf_counter() - started) * 1000)
    with session.store.transaction():
        session.store.conn.execute("DELETE FROM outbox WHERE journal_id = 'bench~baseline~x'")
    return samples


def service_mark_ms(session: Session, count: int, month: dt.date) -> list[float]:
    editor = JournalEditor(session.book)
    state = session.book.state(JOURNAL)
    lessons = [lsn for lsn in state.lessons() if lsn.date.replace(day=1) == month]
    roster = [s.id for s in session.directory.students]
    cells = [
        (lsn.lesson_id, s)
        for lsn in lessons
        for s in roster
        if state.attendance(lsn.lesson_id, s) is not AttendanceCode.ABSENT
    ]
    samples = []
    for i in range(count):
        lesson_id, student = cells[i % len(cells)]
        started = time.perf_counter()
        editor.set_mark(JOURNAL, lesson_id, student, 1 + i % 5)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def app_run(home: Path, count: int, month: dt.date) -> dict[str, float | list[float]]:
    from client_tui.app import JournalApp
    from client_tui.app.screens.grid import GridScreen

    session = Session(home, password=BENCH_PASSWORD)
    app = JournalApp(session, background_sync=False, today=lambda: month.replace(day=20))
    result: dict[str, float | list[float]] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        started = time.perf_counter()
        await pilot.press("enter")
        while not isinstance(app.screen, GridScreen) or app.screen.grid is None:
            await pilot.pause(0.001)
        result["open_app_ms"] = (time.perf_counter() - started) * 1000
        screen = app.screen
        grid = screen.grid
        table = screen.table
        absent = {
            key for key, cell in grid.cells.items() if cell.attendance is AttendanceCode.ABSENT
        }
        targets = [
            (r, c)
            for c, column in enumerate(grid.columns)
            for r, row in enumerate(grid.rows)
            if (row.student_id, column.lesson_id) not in absent
        ]
        commit_ms: list[float] = []
        handler_ms: list[float] = []
        timed(app.editor, "set_mark", commit_ms)  # key handled → entry committed
        timed(screen, "type_value", handler_ms)  # key handled → committed and grid redrawn
        samples, idle = [], []
        before = session.status().pending
        for i in range(count):
            row, column = targets[i % len(targets)]
            table.move_cursor(row=row, column=column + 2)
            started = time.perf_counter()
            await pilot.press("x")  # a key that means nothing: the harness's own round trip
            while app.keys_waiting:
                await pilot.pause(0.001)
            idle.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await pilot.press(str(1 + (i + 1) % 5))
            while app.keys_waiting:  # a key held until the last one's effects landed
                await pilot.pause(0.001)
            samples.append((time.perf_counter() - started) * 1000)
            if app.screen is not screen:  # a dialog (a reason asked for) took the keys
                raise SystemExit(f"key {i}: {type(app.screen).__name__} opened over the grid")
        committed = session.status().pending - before
        if committed != count or len(commit_ms) != count:
            message = screen.query_one("#message").render()
            raise SystemExit(f"only {committed} of {count} keypresses were committed: {message}")
        result["keypress_ms"] = samples
        result["noop_ms"] = idle
        result["commit_ms"] = commit_ms
        result["handler_ms"] = handler_ms
        result["rss_app_mb"] = rss_mb()
    session.close()
    return result


PAUSE_MS = 50.0  # a pause a teacher feels between a key and the screen


def load_average() -> str:
    """The machine is shared: every figure is read beside the load it was measured under."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def timed(owner: object, name: str, samples: list[float]) -> None:
    """Wrap owner.name so each call's duration (ms) lands in `samples`."""
    inner = getattr(owner, name)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            samples.append((time.perf_counter() - started) * 1000)

    setattr(owner, name, wrapper)


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
    )


def measure(args: argparse.Namespace, month: dt.date) -> dict:
    """One whole run on a fresh profile: fill the year, open it, type."""
    with tempfile.TemporaryDirectory(prefix="zhurnal-bench-") as tmp:
        home = Path(tmp)
        session = offline_profile(home, args.students)
        events, fill_s = fill_year(session, args.per_week)
        lessons = len(session.book.state(JOURNAL).lessons())
        session.close()

        from client_tui.services.grid import build_month_grid

        started = time.perf_counter()
        fresh = Session(home, password=BENCH_PASSWORD)  # a new start: nothing cached
        unlock_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        state = fresh.book.state(JOURNAL)
        build_month_grid(state, fresh.directory, fresh.book.info(JOURNAL), month)
        open_service_ms = (time.perf_counter() - started) * 1000
        baseline = bare_commit_ms(fresh, args.entries)
        service = service_mark_ms(fresh, args.entries, month)
        fresh.close()
        store_mb = sum(p.stat().st_size for p in home.rglob("store*") if p.is_file()) / 2**20

        rss_before_app = rss_mb()
        app = asyncio.run(app_run(home, args.entries, month))
    return app | {
        "events": events,
        "lessons": lessons,
        "fill_s": fill_s,
        "unlock_ms": unlock_ms,
        "open_service_ms": open_service_ms,
        "baseline": baseline,
        "service": service,
        "rss_before_app": rss_before_app,
        "store_mb": store_mb,
        "load_end": load_average(),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--per-week", type=int, default=5, help="lessons of the subject a week")
    parser.add_argument("--entries", type=int, default=300, help="keypresses to time")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="also run on an unencrypted store (same APSW build) for the cost of encryption",
    )
    parser.add_argument(
        "--write-docs", action="store_true", help="write the table to docs/BENCHMARKS.md"
    )
    args = parser.parse_args(argv)

    rss_start = rss_mb()
    load_start = load_average()
    month = dt.date(2026, 5, 1)
    runs = {"encrypted": measure(args, month)}
    if args.plain:
        with without_encryption():
            runs["plain"] = measure(args, month)
    app = runs["encrypted"]
    keypress = app["keypress_ms"]

    def spread(samples: list[float]) -> str:
        return (
            f"{statistics.median(samples):.1f} / {percentile(samples, 0.99):.1f} / "
            f"{max(samples):.1f} ms, over 50 ms: {sum(x > PAUSE_MS for x in samples)}"
        )

    def each(key: str, show) -> str:
        """The encrypted run's figure, then the plain run's (when measured)."""
        return " · ".join(f"{name}: {show(run[key])}" for name, run in runs.items())

    def ratio(key: str, of=statistics.median) -> str:
        if "plain" not in runs:
            return "—"
        return f"{of(runs['encrypted'][key]) / of(runs['plain'][key]):.2f}×"

    ms = "{:.0f} ms".format
    loads = " · ".join(f"{name}: {run['load_end']}" for name, run in runs.items())
    rows = [
        ("journal", f"{args.students} pupils, {app['lessons']} lessons, {app['events']} entries"),
        ("filling it through the service layer", each("fill_s", "{:.1f} s".format)),
        ("unlock: Argon2id key + open the store", each("unlock_ms", ms)),
        ("open the year's journal: fold + month grid", each("open_service_ms", ms)),
        ("open it in the app (Enter → grid on screen)", each("open_app_ms", ms)),
        ("store on disk (file + WAL)", each("store_mb", "{:.1f} MB".format)),
        ("load average at start / at the end of each run", f"{load_start} / {loads}"),
        ("baseline: bare durable commit, median / p99 / max", each("baseline", spread)),
        ("service alone: mark committed, median / p99 / max", each("service", spread)),
        ("app: key handled → entry committed", each("commit_ms", spread)),
        ("app: key handled → committed + grid updated", each("handler_ms", spread)),
        ("app: whole keypress under Pilot (to idle screen)", each("keypress_ms", spread)),
        ("Pilot baseline: a key that does nothing", each("noop_ms", spread)),
        ("committed ÷ bare durable commit (medians)", " · ".join(
            f"{name}: {statistics.median(r['commit_ms']) / statistics.median(r['baseline']):.1f}×"
            for name, r in runs.items())),
        ("encrypted ÷ plain: key → committed (median / max)",
         f"{ratio('commit_ms')} / {ratio('commit_ms', max)}"),
        ("encrypted ÷ plain: whole keypress (median / max)",
         f"{ratio('keypress_ms')} / {ratio('keypress_ms', max)}"),
        ("encrypted ÷ plain: bare durable commit (median)", ratio("baseline")),
        ("encrypted ÷ plain: open the year (service / app)",
         f"{ratio('open_service_ms', float)} / {ratio('open_app_ms', float)}"),
        ("RSS: Python + services, before Textual",
         f"{rss_start:.0f} MB → {app['rss_before_app']:.0f} MB"),
        ("RSS: with the app running the year's journal", f"{app['rss_app_mb']:.0f} MB"),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    table = "\n".join(f"| {name:<{width}} | {value} |" for name, value in rows)
    header = f"| {'measure':<{width}} | value |\n|{'-' * (width + 2)}|-------|"
    print(f"{header}\n{table}")
    if args.write_docs:
        write_docs(header + "\n" + table, args)
    return {
        "keypress_median_ms": statistics.median(keypress),
        "keypress_p99_ms": percentile(keypress, 0.99),
        "commit_median_ms": statistics.median(app["commit_ms"]),
        "open_app_ms": app["open_app_ms"],
        "events": app["events"],
        "committed": len(keypress),
        "pauses": sum(x > PAUSE_MS for x in keypress),
    }


def write_docs(table: str, args: argparse.Namespace) -> None:
    title = "## Teacher's app (Textual): typing and opening a year's journal"
    text = (
        f"{title}\n\n"
        f"`python -m scripts.bench.tui_bench` — {dt.date.today():%Y-%m-%d}, {machine()}; "
        f"{args.students} pupils, {args.per_week} lessons a week, {args.entries} keypresses.\n\n"
        f"{table}\n"
    )
    write_section(text, ROOT / "docs" / "BENCHMARKS.md", title)  # replaces an earlier run's


if __name__ == "__main__":
    main()
