"""District burst: a thousand teachers each push one school day within a minute.

    python -m scripts.bench.district_bench [--teachers 1000] [--seconds 60] [--workers 1]
                                           [--class-size 15] [--output PATH]

A synthetic district school is written straight into a fresh database: `--teachers` teachers,
each teaching one subject in four classes of `--class-size` pupils (so a thousand teachers keep
4 000 journals of 500 classes), one account and one device (with its own bearer token) each,
created in the database rather than through the rate-limited login. Every teacher's day is
built beforehand, as their laptop would have it: in each of their four journals one lesson
(topic, homework), the attendance of every pupil (one absent) and three marks, encoded as the
sync request their laptop sends (its own Yjs document per journal, msgpack + zlib).

One real server process (`journal-server serve`, uvicorn, `--workers` processes; 1 by default)
runs on loopback. The teachers start evenly spread over `--seconds` seconds, each its own
connection, each one POST /api/v1/sync (retried never: a failure counts). Measured: requests/s
and events/s over the whole burst (first request sent to last reply), median, p99 and maximum
latency, failed requests (non-200 or a journal not ACCEPTED or an event refused). Afterwards
the database is checked: every event of every teacher is in the `events` table exactly once,
in its journal, and in the journal's document (its update log merged) exactly once, and nothing
else is. Targets: no failed request, p99 under 2 s.

The load generator runs in this process on the same two cores as the server (its requests
are built before the clock starts, so it only sends and reads). `--quick` is a smoke size.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from scripts.badlink.live import LiveServer, free_port
from scripts.bench.sync_bench import DOCS, machine, write_section
from scripts.seed_demo import MSK, PERIODS, SCHOOL, SUBJECTS, YEAR, YEAR_ID
from server.auth import passwords
from server.auth.service import hash_token
from server.seeding import load_directory
from server.storage import accounts
from server.storage import journals as journal_storage
from server.storage.db import connect, create_schema, transaction
from shared import wire
from shared.hlc import format_stamp
from shared.journal import JournalDoc, new_client_id
from shared.model import (
    AttendanceCode,
    AttendanceMarked,
    ClassTeacher,
    Directory,
    JournalEvent,
    JournalInfo,
    LessonRecorded,
    MarkGiven,
    Membership,
    Role,
    SchoolClass,
    Staff,
    Student,
    Subject,
    TeachingAssignment,
    journal_id,
)

SECTION = "## District burst"
DAY = dt.date(2026, 11, 20)  # a Friday of the second quarter of the demo's school year
JOURNALS_PER_TEACHER = 4
SUBJECTS_USED = ("russian", "math", "english", "history", "geography", "biology", "physics", "art")
LETTERS = "АБВГДЕЖИКЛМНОПРСТУФХЦЧШЭЮЯ"
P99_TARGET = 2.0

Progress = Callable[[str], None]


# ------------------------------------------------------------------------------ the district


@dataclass
class Teacher:
    person_id: str
    login: str
    device_id: str
    token: str
    journals: list[JournalInfo]
    body: bytes = b""  # the sync request of their day
    events: dict[str, list[str]] = field(default_factory=dict)  # journal id -> event ids


@dataclass
class District:
    directory: Directory
    teachers: list[Teacher]

    @property
    def events(self) -> int:
        return sum(len(ids) for t in self.teachers for ids in t.events.values())


def build_district(teachers: int, class_size: int, seed: int = 6) -> District:
    """`teachers` teachers; teacher t teaches subject t % 8 in the four classes of group t // 8,
    so each class has eight subjects, each with its own teacher."""
    groups = (teachers + len(SUBJECTS_USED) - 1) // len(SUBJECTS_USED)
    class_count = groups * JOURNALS_PER_TEACHER
    classes = []
    for c in range(class_count):
        grade = 2 + c % 10  # 2nd to 11th grade: every one of them takes marks
        letter = LETTERS[(c // 10) % len(LETTERS)] + ("" if c < 10 * len(LETTERS) else str(c))
        classes.append(SchoolClass(id=f"{YEAR_ID}-c{c}", year_id=YEAR_ID, grade=grade,
                                   letter=letter))  # fmt: skip
    students, memberships = [], []
    for school_class in classes:
        for n in range(class_size):
            student = Student(
                id=f"s-{school_class.id}-{n}", last_name=f"Ученик{n}", first_name="Иван"
            )
            students.append(student)
            memberships.append(
                Membership(student_id=student.id, class_id=school_class.id, starts=YEAR.starts)
            )
    staff, teaching, class_teachers, people = [], [], [], []
    for t in range(teachers):
        subject = SUBJECTS_USED[t % len(SUBJECTS_USED)]
        group = t // len(SUBJECTS_USED)
        person = Staff(
            id=f"t-{t}", last_name=f"Учитель{t}", first_name="Анна", roles=(Role.TEACHER,)
        )
        staff.append(person)
        taught = [classes[group * JOURNALS_PER_TEACHER + j] for j in range(JOURNALS_PER_TEACHER)]
        teaching += [
            TeachingAssignment(teacher_id=person.id, class_id=c.id, subject_id=subject)
            for c in taught
        ]
        if t % len(SUBJECTS_USED) == 0:  # the group's russian teacher leads its first class
            class_teachers.append(ClassTeacher(teacher_id=person.id, class_id=taught[0].id))
        journals = [
            JournalInfo(id=journal_id(YEAR_ID, c.id, subject), year_id=YEAR_ID, class_id=c.id,
                        subject_id=subject)
            for c in taught
        ]  # fmt: skip
        token = hashlib.sha256(f"district-{seed}-{t}".encode()).hexdigest()
        people.append(Teacher(person.id, f"teacher{t}", f"d-district-{t}", token, journals))
    directory = Directory(
        school=SCHOOL, year=YEAR, periods=PERIODS, classes=tuple(classes),
        subjects=tuple(Subject(id=s, name=SUBJECTS[s]) for s in SUBJECTS_USED),
        students=tuple(students), memberships=tuple(memberships), staff=tuple(staff),
        teaching=tuple(teaching), class_teachers=tuple(class_teachers),
        journals=tuple(sorted({j for p in people for j in p.journals}, key=lambda j: j.id)),
    )  # fmt: skip
    rng = random.Random(seed)
    members = {c.id: [m.student_id for m in memberships if m.class_id == c.id] for c in classes}
    for teacher in people:
        pushes = []
        for slot, journal in enumerate(teacher.journals, start=1):
            events = day_of(teacher, journal, slot, members[journal.class_id], rng)
            teacher.events[journal.id] = [e.id for e in events]
            doc = JournalDoc(client_id=new_client_id())
            update = doc.add(events)
            pushes.append(
                wire.JournalPush(
                    journal_id=journal.id, state_vector=doc.state_vector(), update=update
                )
            )
        teacher.body = wire.encode(wire.SyncRequest(journals=tuple(pushes)))
    return District(directory, people)


def day_of(
    teacher: Teacher, journal: JournalInfo, lesson_no: int, pupils: list[str], rng: random.Random
) -> list[JournalEvent]:
    """One lesson of `DAY` in `journal` as the teacher's laptop records it after the lesson."""
    wall = int(dt.datetime(DAY.year, DAY.month, DAY.day, 8 + lesson_no, 0, tzinfo=MSK).timestamp())
    counter = iter(range(10_000))
    prefix = f"{teacher.person_id}.{lesson_no}"

    def base(n: int) -> dict:
        return {
            "id": f"{prefix}.{n}",
            "author": teacher.person_id,
            "device": teacher.device_id,
            "hlc": format_stamp(wall * 1000 + 45 * 60_000, next(counter), teacher.device_id),
        }

    lesson_id = f"L-{prefix}"
    events: list[JournalEvent] = [
        LessonRecorded(
            **base(0), lesson_id=lesson_id, date=DAY, slot=1,
            topic=f"Тема урока {lesson_no}", homework="§ 12, упр. 3–5",
        )
    ]  # fmt: skip
    absent = rng.randrange(len(pupils)) if pupils else -1
    for n, pupil in enumerate(pupils):
        code = AttendanceCode.ABSENT if n == absent else AttendanceCode.PRESENT
        events.append(
            AttendanceMarked(**base(1 + n), lesson_id=lesson_id, student_id=pupil, code=code)
        )
    present = [p for n, p in enumerate(pupils) if n != absent]
    for k, pupil in enumerate(rng.sample(present, min(3, len(present)))):
        events.append(
            MarkGiven(
                **base(1 + len(pupils) + k), lesson_id=lesson_id, student_id=pupil,
                value=rng.randint(2, 5),
            )
        )  # fmt: skip
    return events


def make_database(path: Path, district: District) -> None:
    """The directory, one account and one device per teacher, written straight in."""
    conn = connect(path)
    try:
        create_schema(conn)
        load_directory(conn, district.directory, (), ())
        password_hash = passwords.hash_password("district-teacher")
        now = time.time()
        with transaction(conn):
            for teacher in district.teachers:
                accounts.put_account(
                    conn,
                    login=teacher.login,
                    password_hash=password_hash,
                    role=Role.TEACHER,
                    person_id=teacher.person_id,
                    now=now,
                )
                accounts.add_device(
                    conn,
                    device_id=teacher.device_id,
                    login=teacher.login,
                    name="ноутбук (district bench)",
                    token_hash=hash_token(teacher.token),
                    now=now,
                )
    finally:
        conn.close()


# ------------------------------------------------------------------------------ the burst


@dataclass
class Outcome:
    teacher: Teacher
    started: float  # perf_counter when sent
    seconds: float  # until the reply was read
    status: int | None = None
    error: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.error)


async def _one(client: httpx.AsyncClient, teacher: Teacher, delay: float, t0: float) -> Outcome:
    await asyncio.sleep(max(0.0, t0 + delay - time.perf_counter()))
    started = time.perf_counter()
    outcome = Outcome(teacher, started, 0.0)
    try:
        response = await client.post(
            "/api/v1/sync",
            content=teacher.body,
            headers={
                "Authorization": f"Bearer {teacher.token}",
                "Content-Type": wire.CONTENT_TYPE,
            },
        )
        body = response.content
        outcome.seconds = time.perf_counter() - started
        outcome.status = response.status_code
        if response.status_code != 200:
            outcome.error = f"HTTP {response.status_code}: {body[:200]!r}"
            return outcome
        reply = wire.decode(body)
        bad = [
            f"{j.journal_id}: {j.outcome} {j.rule} {j.message_ru}"
            for j in reply.journals
            if j.outcome is not wire.Outcome.ACCEPTED or j.event_ids
        ]
        if bad or len(reply.journals) != len(teacher.journals):
            outcome.error = "; ".join(bad) or f"{len(reply.journals)} replies"
    except (httpx.HTTPError, wire.WireError) as exc:
        outcome.seconds = time.perf_counter() - started
        outcome.error = f"{type(exc).__name__}: {exc}"
    return outcome


async def burst(url: str, teachers: list[Teacher], seconds: float) -> list[Outcome]:
    """Every teacher sends their day once, start times spread evenly over `seconds`."""
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    timeout = httpx.Timeout(120.0)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as client:
        step = seconds / len(teachers)
        t0 = time.perf_counter() + 0.1
        order = list(teachers)
        random.Random(1).shuffle(order)
        return list(
            await asyncio.gather(*(_one(client, t, i * step, t0) for i, t in enumerate(order)))
        )


# ------------------------------------------------------------------------------ the check


@dataclass
class Check:
    expected: int
    in_table: int
    duplicates_in_table: int  # event ids stored more than once (the key forbids it; checked)
    missing_in_table: int
    unexpected_in_table: int
    wrong_journal: int
    in_documents: int
    missing_in_documents: int
    unexpected_in_documents: int

    @property
    def exact(self) -> bool:
        return (
            self.in_table == self.expected
            and self.in_documents == self.expected
            and not (
                self.duplicates_in_table
                or self.missing_in_table
                or self.unexpected_in_table
                or self.wrong_journal
                or self.missing_in_documents
                or self.unexpected_in_documents
            )
        )


def check_exactly_once(path: Path, district: District) -> Check:
    """Every event on the server exactly once: in the events table and in its document."""
    expected = {e: j for t in district.teachers for j, ids in t.events.items() for e in ids}
    conn = connect(path)
    try:
        rows = conn.execute("SELECT id, journal_id FROM events").fetchall()
        counts = Counter(r["id"] for r in rows)
        stored = {r["id"]: r["journal_id"] for r in rows}
        in_docs: Counter[str] = Counter()
        unexpected_docs = 0
        for (journal,) in conn.execute("SELECT id FROM journals").fetchall():
            state, _ = journal_storage.load_document(conn, journal)
            keys = JournalDoc(state).raw_events()
            for key in keys:
                if expected.get(key) == journal:
                    in_docs[key] += 1
                else:
                    unexpected_docs += 1
    finally:
        conn.close()
    return Check(
        expected=len(expected),
        in_table=len(rows),
        duplicates_in_table=sum(1 for c in counts.values() if c > 1),
        missing_in_table=len(expected.keys() - stored.keys()),
        unexpected_in_table=len(stored.keys() - expected.keys()),
        wrong_journal=sum(1 for e, j in stored.items() if e in expected and expected[e] != j),
        in_documents=sum(in_docs.values()),
        missing_in_documents=len(expected.keys() - in_docs.keys()),
        unexpected_in_documents=unexpected_docs,
    )


# ------------------------------------------------------------------------------ the run


@dataclass
class Result:
    teachers: int
    journals: int
    classes: int
    students: int
    events: int
    window: float  # the seconds the start times were spread over
    workers: int
    outcomes: list[Outcome]
    wall: float  # first request sent to last reply read
    check: Check
    setup_seconds: float
    request_bytes: int

    @property
    def latencies(self) -> list[float]:
        return sorted(o.seconds for o in self.outcomes)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failed]

    def percentile(self, q: float) -> float:
        values = self.latencies
        return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]

    @property
    def median(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)

    @property
    def ok(self) -> bool:
        return not self.failed and self.p99 < P99_TARGET and self.check.exact


def run(
    *,
    teachers: int = 1000,
    seconds: float = 60.0,
    workers: int = 1,
    class_size: int = 15,
    progress: Progress = lambda message: None,
) -> Result:
    started = time.perf_counter()
    progress(f"building {teachers} teachers' district and their days")
    district = build_district(teachers, class_size)
    directory = district.directory
    with tempfile.TemporaryDirectory(prefix="zhurnal-district-") as tmp:
        folder = Path(tmp)
        db = folder / "server.sqlite"
        progress(
            f"writing {len(directory.classes)} classes, {len(directory.students)} pupils, "
            f"{len(directory.journals)} journals, {teachers} accounts and devices"
        )
        make_database(db, district)
        server = LiveServer(db, free_port(), folder / "server.log", workers=workers)
        server.start()
        setup = time.perf_counter() - started
        try:
            progress(f"{teachers} teachers push {district.events} events over {seconds:g} s")
            outcomes = asyncio.run(burst(server.url, district.teachers, seconds))
        finally:
            server.stop()
        first = min(o.started for o in outcomes)
        last = max(o.started + o.seconds for o in outcomes)
        progress("checking every event is on the server exactly once")
        check = check_exactly_once(db, district)
        if any(o.failed for o in outcomes):
            progress("server log tail:\n" + server.log_tail(2000))
    return Result(
        teachers=teachers,
        journals=len(directory.journals),
        classes=len(directory.classes),
        students=len(directory.students),
        events=district.events,
        window=seconds,
        workers=workers,
        outcomes=outcomes,
        wall=last - first,
        check=check,
        setup_seconds=setup,
        request_bytes=sum(len(t.body) for t in district.teachers),
    )


# ------------------------------------------------------------------------------ the report


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def table(result: Result) -> str:
    r = result
    c = r.check
    rows = [
        ("Teachers (one device and one request each)", f"{r.teachers}"),
        ("Journals / classes / pupils", f"{r.journals} / {r.classes} / {r.students}"),
        ("Events pushed", f"{r.events} ({r.events / r.teachers:.0f} per teacher)"),
        ("Request bodies (msgpack + zlib)", f"{r.request_bytes / r.teachers / 1024:.1f} KB each"),
        ("Server processes (uvicorn workers)", f"{r.workers}"),
        ("Start times spread over", f"{r.window:g} s"),
        ("Burst wall time (first sent → last reply)", f"{r.wall:.1f} s"),
        ("Throughput", f"{r.teachers / r.wall:.1f} requests/s, {r.events / r.wall:,.0f} events/s"),
        ("Latency median", _ms(r.median)),
        ("Latency p99 (target < 2 s)", _ms(r.p99)),
        ("Latency max", _ms(r.latencies[-1])),
        ("Failed requests (target 0)", f"{len(r.failed)}"),
        (
            "Events in the events table, exactly once",
            f"{c.in_table} of {c.expected} (duplicates {c.duplicates_in_table}, missing "
            f"{c.missing_in_table}, unexpected {c.unexpected_in_table}, wrong journal "
            f"{c.wrong_journal})",
        ),
        (
            "Events in the journal documents, exactly once",
            f"{c.in_documents} of {c.expected} (missing {c.missing_in_documents}, "
            f"unexpected {c.unexpected_in_documents})",
        ),
        ("Targets met", "yes" if r.ok else "NO"),
    ]
    lines = ["| Measure | Value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def markdown(result: Result, *, command: str, seconds: float, load: tuple[float, ...]) -> str:
    return "\n".join(
        [
            SECTION,
            "",
            f"`{command}` — {machine()}; load average before the burst "
            f"{' / '.join(f'{x:.1f}' for x in load)} (1 / 5 / 15 min); the run took "
            f"{seconds:.0f} s (setup {result.setup_seconds:.0f} s).",
            "",
            "A synthetic district school written straight into a fresh database: each teacher "
            "teaches one subject in four classes (eight subjects a class) and has one account "
            "and one device with its own token. Each teacher's laptop sends one sync request "
            f"with a school day ({DAY:%d.%m.%Y}): in each of their four journals one lesson, "
            "every pupil's attendance (one absent) and three marks. One real server process "
            "(`journal-server serve`, uvicorn) on loopback; the load generator (httpx, asyncio, "
            "a connection per teacher, requests built beforehand) shares the machine's two "
            "cores with it. The teachers start evenly spread over the window, in random order. "
            "Latency is from sending a request to reading its whole reply. Afterwards every "
            "event id is looked up in the `events` table and in its journal's document (the "
            "update log merged).",
            "",
            table(result),
            "",
            "Limits: the journals hold nothing before the day, so the server reads and folds "
            "small documents; on a real day in November each journal holds the term, and a "
            "server that does not keep it in memory (more journals than "
            "`ZHURNAL_DOCUMENT_CACHE`, 256 by default; a year's journal is 3-4 MB folded) "
            'reads and folds it again: see the Sync core section, "server just restarted". '
            "The load generator's own work shares the two cores with the server.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teachers", type=int, default=1000, help="simulated teachers (1000)")
    parser.add_argument("--seconds", type=float, default=60.0, help="burst window, s (60)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (1)")
    parser.add_argument("--class-size", type=int, default=15, help="pupils per class (15)")
    parser.add_argument("--quick", action="store_true", help="a smoke size: 16 teachers, 2 s")
    parser.add_argument("--output", type=Path, help="where to write the Markdown section")
    args = parser.parse_args(argv)
    if args.quick:
        args.teachers, args.seconds = 16, 2.0
    logging.getLogger("httpx").setLevel(logging.WARNING)
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:5.1f} s] {message}", file=sys.stderr, flush=True)

    load = os.getloadavg()
    result = run(
        teachers=args.teachers,
        seconds=args.seconds,
        workers=args.workers,
        class_size=args.class_size,
        progress=progress,
    )
    command = "python -m scripts.bench.district_bench"
    if args.quick:
        command += " --quick"
    else:
        if args.teachers != 1000:
            command += f" --teachers {args.teachers}"
        if args.seconds != 60:
            command += f" --seconds {args.seconds:g}"
    if args.workers != 1:
        command += f" --workers {args.workers}"
    if args.class_size != 15:
        command += f" --class-size {args.class_size}"
    text = markdown(result, command=command, seconds=time.perf_counter() - started, load=load)
    print(text)
    for outcome in result.failed[:10]:
        print(f"failed: {outcome.teacher.login}: {outcome.error}", file=sys.stderr)
    output = args.output or (None if args.quick else DOCS)
    if output is not None:
        write_section(text, output, SECTION)
        print(f"written to {output}", file=sys.stderr)
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
