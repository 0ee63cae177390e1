"""Benchmark: archive a school of about 1,000 pupils with a full year recorded.

    python -m scripts.bench.archive_bench                 # 1,000 pupils, writes docs/BENCHMARKS.md
    python -m scripts.bench.archive_bench --pupils 80 --no-write   # a quick look

The school is the demo school (scripts/seed_demo.py) recorded to the end of May, copied side by
side until it has the pupils asked for (each copy its own classes 5А, 5Б…, teachers and pupils),
with quarter, half and year marks added after each period. The copies are written straight
into the database with the storage layer (the same functions the sync service uses, without
running each event through the rules and the CRDT round trip per push): pushing 1.3 million
events through SyncService takes far longer than the archive itself, and the demo's events
already obey the rules (tests/shared/test_seed_demo.py).

The archive is built in a child process so that its peak memory (VmHWM) is its own.
Baseline, measured in the same run: the raw event data (the `events` table's JSON bodies) and
the time to dump just those bodies to one JSON file, the least any export could do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import msgspec

from scripts.bench.sync_bench import DOCS, write_section
from scripts.seed_demo import PERIODS, YEAR, build_demo_school, school_days
from server.auth import passwords
from server.seeding import load_directory
from server.storage import accounts
from server.storage import journals as journal_storage
from server.storage.db import connect, create_schema, transaction
from shared.fold import fold
from shared.hlc import format_stamp, parse_stamp
from shared.journal import JournalDoc
from shared.model import (
    ClassTeacher,
    Directory,
    JournalEvent,
    JournalInfo,
    MarkGiven,
    Membership,
    PeriodKind,
    PeriodMarkGiven,
    Role,
    SchoolClass,
    TeachingAssignment,
    journal_id,
)

LETTERS = "АБВГДЕЖЗИКЛМНОПРСТУФХ"
CLOSED_ON = dt.date(2027, 6, 20)
MSK = dt.timezone(dt.timedelta(hours=3))
RECORDS_LOGIN = "bench.records"


def _suffix(value: str, k: int) -> str:
    return f"{value}.k{k}"


def _copy_event(event: JournalEvent, k: int, class_map: dict[str, str]) -> JournalEvent:
    wall, counter, node = parse_stamp(event.hlc)
    changes: dict = {
        "id": _suffix(event.id, k),
        "author": _suffix(event.author, k),
        "device": _suffix(event.device, k),
        "hlc": format_stamp(wall, counter, _suffix(node, k)),
        "supersedes": tuple(_suffix(s, k) for s in event.supersedes),
    }
    for name in ("lesson_id", "student_id"):
        if hasattr(event, name):
            changes[name] = _suffix(getattr(event, name), k)
    return msgspec.structs.replace(event, **changes)


def _year_marks(directory: Directory, events: dict[str, list[JournalEvent]]) -> None:
    """Quarter (or half) and year marks after each period, rounded means of current marks."""
    already = {
        (j, e.period_id, e.student_id)
        for j, evs in events.items()
        for e in evs
        if isinstance(e, PeriodMarkGiven)
    }
    for jid, evs in events.items():
        if not evs:
            continue
        lessons = {e.lesson_id: e.date for e in evs if hasattr(e, "date")}
        marks: dict[tuple[str, str], list[int]] = defaultdict(list)
        retracted = {s for e in evs for s in e.supersedes}
        for e in evs:
            if isinstance(e, MarkGiven) and e.id not in retracted:
                for period in PERIODS:
                    if period.starts <= lessons.get(e.lesson_id, period.ends) <= period.ends:
                        marks[(period.id, e.student_id)].append(e.value)
        grade = int(jid.split("~")[1].split("-")[2])
        kinds = (
            {PeriodKind.HALF, PeriodKind.YEAR}
            if grade >= 10
            else {PeriodKind.QUARTER, PeriodKind.YEAR}
        )
        author, device = evs[0].author, evs[0].device
        counter = 0
        for period in PERIODS:
            if period.kind not in kinds:
                continue
            last = max(
                (d for d in lessons.values() if period.starts <= d <= period.ends), default=None
            )
            if last is None:
                continue
            days = school_days(last + dt.timedelta(days=1), last + dt.timedelta(days=10))
            when = dt.datetime.combine(days[0] if days else last, dt.time(16), MSK)
            for (period_id, student), values in sorted(marks.items()):
                if period_id != period.id or (jid, period_id, student) in already:
                    continue
                counter += 1
                evs.append(
                    PeriodMarkGiven(
                        id=f"pm-{jid.split('~', 1)[1]}-{period.id}-{student}".replace("~", "-"),
                        author=author,
                        device=device,
                        hlc=format_stamp(int(when.timestamp() * 1000), counter, device),
                        period_id=period.id,
                        student_id=student,
                        value=max(2, min(5, round(statistics.mean(values)))),
                        mark_kind="year" if period.kind is PeriodKind.YEAR else "period",
                    )
                )


def build_school(db: Path, pupils: int, until: dt.date = YEAR.ends) -> dict:
    """A closed year of `pupils` pupils or a few more in `db`, lessons recorded up to `until`
    (the end of the year; a smoke test takes a fortnight); returns its figures."""
    started = time.perf_counter()
    demo = build_demo_school(today=dt.date(2027, 6, 1), lessons_until=until)
    base = demo.directory
    _year_marks(base, demo.events)
    copies = math.ceil(pupils / len(base.students))
    classes, students, memberships, staff = [], [], [], []
    teaching, class_teachers, journals = [], [], []
    events: dict[str, list[JournalEvent]] = {}
    for k in range(copies):
        class_map = {c.id: _suffix(c.id, k) for c in base.classes}
        classes += [
            SchoolClass(id=class_map[c.id], year_id=c.year_id, grade=c.grade, letter=LETTERS[k])
            for c in base.classes
        ]
        students += [msgspec.structs.replace(s, id=_suffix(s.id, k)) for s in base.students]
        memberships += [
            Membership(
                student_id=_suffix(m.student_id, k),
                class_id=class_map[m.class_id],
                starts=m.starts,
                ends=m.ends,
            )
            for m in base.memberships
        ]
        staff += [
            msgspec.structs.replace(s, id=_suffix(s.id, k))
            if k == 0 or (Role.TEACHER in s.roles and Role.DIRECTOR not in s.roles)
            else None
            for s in base.staff
        ]
        teaching += [
            TeachingAssignment(
                teacher_id=_suffix(t.teacher_id, k),
                class_id=class_map[t.class_id],
                subject_id=t.subject_id,
            )
            for t in base.teaching
        ]
        class_teachers += [
            ClassTeacher(teacher_id=_suffix(c.teacher_id, k), class_id=class_map[c.class_id])
            for c in base.class_teachers
        ]
        for info in base.journals:
            new_id = journal_id(info.year_id, class_map[info.class_id], info.subject_id)
            journals.append(
                JournalInfo(
                    id=new_id,
                    year_id=info.year_id,
                    class_id=class_map[info.class_id],
                    subject_id=info.subject_id,
                )
            )
            events[new_id] = [_copy_event(e, k, class_map) for e in demo.events[info.id]]
    staff = [s for s in staff if s is not None]
    known = {s.id for s in staff}
    for t in [*teaching, *class_teachers]:
        if t.teacher_id not in known:  # a head teacher copied only once: keep them teaching
            original = next(
                s for s in base.staff if _suffix(s.id, 0) == t.teacher_id.rsplit(".k", 1)[0] + ".k0"
            )
            staff.append(msgspec.structs.replace(original, id=t.teacher_id, roles=(Role.TEACHER,)))
            known.add(t.teacher_id)
    directory = msgspec.structs.replace(
        base,
        classes=tuple(classes),
        students=tuple(students),
        memberships=tuple(memberships),
        staff=tuple(staff),
        teaching=tuple(teaching),
        class_teachers=tuple(class_teachers),
        journals=tuple(journals),
    )
    if db.exists():
        db.unlink()
    conn = connect(db)
    create_schema(conn)
    load_directory(conn, directory, (), ())
    records = next(s for s in staff if Role.RECORDS_OFFICER in s.roles)
    with transaction(conn):
        accounts.put_account(
            conn,
            login=RECORDS_LOGIN,
            password_hash=passwords.hash_password("bench-records"),
            role=Role.RECORDS_OFFICER,
            person_id=records.id,
            now=time.time(),
        )
    total = 0
    for n, (jid, evs) in enumerate(sorted(events.items()), start=1):
        info = (
            next(j for j in journals if j.id == jid)
            if n < 0
            else JournalInfo(
                id=jid, year_id=YEAR.id, class_id=jid.split("~")[1], subject_id=jid.split("~")[2]
            )
        )
        doc = JournalDoc()
        doc.add(evs)
        raw = doc.raw_events()
        state = fold(doc.events())
        now = time.time()
        with transaction(conn):
            journal_storage.ensure_journal(conn, info, now)
            journal_storage.append_update(conn, jid, doc.snapshot(), None, now)
            journal_storage.insert_events(conn, jid, [(raw[e.id], e) for e in evs], state, now)
            journal_storage.write_cells(conn, jid, state, state.cells)
            journal_storage.set_state(conn, jid, doc.state_vector(), len(evs), now)
        total += len(evs)
        if n % 100 == 0:
            print(f"  журналов записано: {n}/{len(events)}", file=sys.stderr, flush=True)
    with transaction(conn):
        conn.execute(
            "INSERT INTO year_closures VALUES (?, ?, ?, ?, ?)",
            (YEAR.id, CLOSED_ON.isoformat(), time.time(), records.id, RECORDS_LOGIN),
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {
        "pupils": len(students),
        "journals": len(journals),
        "events": total,
        "fixture_seconds": time.perf_counter() - started,
    }


# ----------------------------------------------------------------- the measured child


def peak_rss_kb() -> int:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss
    over fork and exec, so a child would report the parent's peak (the fixture build)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _tree_rss_kb(root: int) -> int:
    """Resident memory of `root` and every process descended from it, summed (VmRSS)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        grew = bool(more)
        tree |= more
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


class TreeMemory:
    """Samples the process tree's summed RSS (this process and its spawned workers) in a
    thread until stopped; `peak` is the largest sum seen."""

    def __init__(self, every: float = 0.25):
        self.peak, self.every = 0, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss_kb(os.getpid()))
            self._stop.wait(self.every)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the pool's workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def child(db: Path, out: Path, readback: bool = True) -> None:
    """Archive, verify, read back: one JSON line of figures on stdout."""
    from server.archive import keys
    from server.archive.package import build_package
    from server.archive.readback import compare, open_package
    from server.archive.verify import verify_folder

    figures_idle = peak_rss_kb()  # imports loaded
    key_path = out / "key" / "archive-key.pem"
    key = keys.generate(key_path, password=b"")
    conn = connect(db)
    from server.printing.pool import default_workers

    figures: dict = {"idle_maxrss_kb": figures_idle, "workers": default_workers()}
    figures["load_before"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    figures["raw_event_bytes"] = conn.execute("SELECT sum(length(body)) FROM events").fetchone()[0]
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 30 or done == total:
            last[0] = time.perf_counter()
            print(f"  архив: {done}/{total}", file=sys.stderr, flush=True)

    create_schema(conn)  # a school built by an older run lacks the newer tables
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table in {"archive_pdf_cache", "archive_journal_parts"} & tables:  # earlier runs' caches
        conn.execute(f"DELETE FROM {table}")
    started, cpu = time.perf_counter(), _cpu_seconds()  # nothing printed ahead
    with TreeMemory() as memory:
        first = build_package(
            conn, out_dir=out / "archive", key=key, login=RECORDS_LOGIN, progress=progress
        )
    figures["build_nocache_seconds"] = time.perf_counter() - started
    figures["build_nocache_cpu_seconds"] = _cpu_seconds() - cpu
    figures["build_nocache_tree_kb"] = memory.peak
    # the journals' PDFs and files are now in the caches, as if printed when each period
    # closed; the year's package built again (the next in the chain) reads and prints only
    # what changed since
    started, cpu = time.perf_counter(), _cpu_seconds()
    with TreeMemory() as memory:
        result = build_package(
            conn, out_dir=out / "archive", key=key, login=RECORDS_LOGIN, progress=progress
        )
    figures["build_seconds"] = time.perf_counter() - started
    figures["build_cpu_seconds"] = _cpu_seconds() - cpu
    figures["build_tree_kb"] = memory.peak
    figures["build_maxrss_kb"] = peak_rss_kb()
    figures["children_maxrss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    figures["first_package"] = first.name
    started = time.perf_counter()  # the baseline: stream the bodies out as one JSON array
    baseline = out / "events-baseline.json"
    with open(baseline, "w", encoding="utf-8") as f:
        f.write("[")
        for n, row in enumerate(conn.execute("SELECT body FROM events ORDER BY journal_id, hlc")):
            f.write(("," if n else "") + row["body"])
        f.write("]")
    figures["baseline_seconds"] = time.perf_counter() - started
    figures["baseline_bytes"] = baseline.stat().st_size
    sizes: dict[str, int] = defaultdict(int)
    for path in result.path.rglob("*"):
        if path.is_file():
            name = path.name
            kind = name.rsplit(".", 1)[-1] if path.parent != result.path else "bag tag files"
            sizes[f"{name if name in ('events.json', 'journal.pdf') else kind}"] += (
                path.stat().st_size
            )
    figures["package_bytes"] = sum(sizes.values())
    figures["sizes"] = dict(sizes)
    figures["files"] = result.files
    started = time.perf_counter()
    report = verify_folder(out / "archive", [key.public_key()])
    figures["verify_seconds"] = time.perf_counter() - started
    figures["verify_ok"] = report.ok
    figures["readback_seconds"], figures["readback_same"] = None, 0
    figures["readback_different"] = 0
    if readback:
        started = time.perf_counter()
        archived = open_package(result.path)
        comparison = compare(archived)
        archived.close()
        figures["readback_seconds"] = time.perf_counter() - started
        figures["readback_same"] = len(comparison.same)
        figures["readback_different"] = len(comparison.different)
    conn.close()
    figures["load_after"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(json.dumps(figures))


# ----------------------------------------------------------------- the table


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB".replace(",", " ")


def table(school: dict, f: dict) -> str:
    raw = f["raw_event_bytes"]
    rows = [
        (
            "pupils / journals / events",
            f"{school['pupils']} / {school['journals']} / {school['events']:,}".replace(",", " "),
            "",
        ),
        ("raw event data (events.body)", mb(raw), "1.00×"),
        (
            "baseline: stream bodies to one JSON",
            mb(f["baseline_bytes"]),
            f"{f['baseline_seconds']:.1f} s",
        ),
        ("archive package, total", mb(f["package_bytes"]), f"{f['package_bytes'] / raw:.2f}× raw"),
        *(
            (f"  of which {name}", mb(size), f"{size / raw:.2f}× raw")
            for name, size in sorted(f["sizes"].items(), key=lambda kv: -kv[1])
        ),
        ("files in the package", str(f["files"]), ""),
        (
            "build time, no PDF printed ahead",
            f"{f['build_nocache_seconds']:.1f} s",
            f"{f['build_nocache_seconds'] / f['baseline_seconds']:.0f}× baseline",
        ),
        (
            "build time, journal PDFs printed ahead (cached)",
            f"{f['build_seconds']:.1f} s",
            f"{f['build_seconds'] / f['baseline_seconds']:.0f}× baseline",
        ),
        (
            "CPU time of the build, no PDF printed ahead / cached",
            f"{f['build_nocache_cpu_seconds']:.0f} s / {f['build_cpu_seconds']:.0f} s",
            "parent and workers, user + system: the load-proof measure",
        ),
        (
            "peak memory of the process tree, no PDF printed ahead / cached",
            f"{mb(f['build_nocache_tree_kb'] * 1024)} / {mb(f['build_tree_kb'] * 1024)}",
            "summed RSS of the build and its workers, sampled every 0.25 s",
        ),
        (
            "peak memory of the build (VmHWM)",
            mb(f["build_maxrss_kb"] * 1024),
            f"process with its libraries loaded: {mb(f['idle_maxrss_kb'] * 1024)}",
        ),
        (
            "peak memory of one PDF worker (spawned)",
            mb(f["children_maxrss_kb"] * 1024),
            f"{f['workers']} workers",
        ),
        ("load average before / after", f"{f['load_before']} / {f['load_after']}", ""),
        (
            "verify (offline, both packages, every checksum)",
            f"{f['verify_seconds']:.1f} s",
            "ok" if f["verify_ok"] else "FAILED",
        ),
    ]
    if f["readback_seconds"] is not None:
        rows.append(
            (
                "read back + print again + compare",
                f"{f['readback_seconds']:.1f} s",
                f"{f['readback_same']} same, {f['readback_different']} different",
            )
        )
    lines = ["| measure | value | ratio / note |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1000)
    parser.add_argument("--work", type=Path, default=Path("var/bench-archive"))
    parser.add_argument("--no-write", action="store_true", help="do not write docs/BENCHMARKS.md")
    parser.add_argument(
        "--until", type=dt.date.fromisoformat, default=YEAR.ends, help="lessons up to this day"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the school built by an earlier run"
    )
    parser.add_argument(
        "--no-readback", action="store_true", help="skip reading back and printing again"
    )
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child, readback=not args.no_readback)
        return 0
    work = args.work / f"p{args.pupils}"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "school.sqlite"
    print(f"Школа на {args.pupils} учеников, полный год…", file=sys.stderr)
    facts = work / "school.json"
    if args.reuse and db.exists() and facts.exists():
        school = json.loads(facts.read_text())
    else:
        school = build_school(db, args.pupils, args.until)
        facts.write_text(json.dumps(school))
    out = work / "run"
    if out.exists():
        import shutil

        shutil.rmtree(out)
    out.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.bench.archive_bench",
            "--child",
            str(db),
            str(out),
            *(["--no-readback"] if args.no_readback else []),
        ],
        capture_output=False,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    text = table(school, figures)
    print(text)
    if not args.no_write:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        section = "## Year-end archive"
        write_section(
            f"{section}\n\n{stamp}, `python -m scripts.bench.archive_bench --pupils {args.pupils}"
            f"{' --no-readback' if args.no_readback else ''}`."
            f" Fixture built in {school['fixture_seconds']:.0f} s (storage layer, not "
            "SyncService). Machine: 2 shared cores.\n\n" + text + "\n",
            DOCS,
            section,
        )
    return 0 if figures["verify_ok"] and not figures["readback_different"] else 1


if __name__ == "__main__":
    sys.exit(main())
