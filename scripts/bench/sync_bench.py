"""Sync core benchmark on the demo school: bytes on the wire, round trips, time.

    python -m scripts.bench.sync_bench [--scale 1] [--quick] [--profile] [--output PATH]

One run measures, for one teacher of the demo school (Кузнецов А. В., `kuznetsov.av`: mathematics,
algebra and geometry in twelve classes and class teacher of the 9th grade, so he reads 24
journals and writes 12 of them):

  (a) the first full sync of a whole school year on a fresh laptop;
  (b) one school day's entries (topic and homework, attendance of every pupil, a few marks)
      entered on the laptop and synced as a delta;
  (c) the server alone: events applied per second by `SyncService`, in day-sized requests (one
      teacher's day of entries) and in one big request per journal, on the autumn term;
  (d) (a) and (b) again when the teacher's own journals are ten and fifty times larger.

Baselines in the same run: the same events as plain JSON (`msgspec.json.encode` of the list of
event structs), their size raw and zlib-compressed, and the time to POST them to a trivial
in-process endpoint that decodes and counts them (it stores nothing: a lower bound).

Server and laptop run in one process: the laptop's `Session` talks to the real Litestar app
through its `TestClient`; a metering transport counts request and reply bodies. Times are wall
times (perf_counter) of both sides together, disk syncs included, with no network latency.
`--quick` is a tiny version (the first nine school days) for the smoke test; it prints the table
but writes docs/BENCHMARKS.md only with `--output`. `--profile` prints cProfile of (d)'s day
(laptop thread and server thread apart) and skews (d)'s times. `--scale S` multiplies the
server sample of (c) (20 000·S events) and the growths of (d) (10·S and 50·S times).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import importlib.metadata
import io
import logging
import os
import platform
import pstats
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import msgspec
from litestar import Litestar, Request, post
from litestar.testing import TestClient

from client_tui.services.api import ServerApi
from client_tui.services.journals import JournalBook
from client_tui.services.session import Session
from client_tui.services.store import LocalStore
from client_tui.services.sync import SyncReport
from scripts.seed_demo import MSK, Account, DemoSchool, build_demo_school
from server.app import create_app
from server.auth.access import journals_for
from server.auth.principal import Principal
from server.config import ServerConfig
from server.seeding import load_accounts, load_directory, load_journals
from server.storage import journals as journal_storage
from server.storage.db import connect, create_schema, transaction
from server.sync.directory_cache import DirectoryCache
from server.sync.documents import DocumentCache
from server.sync.service import SyncService, server_client_id
from shared.hlc import Clock, format_stamp, parse_stamp, stamp_date
from shared.journal import JournalDoc
from shared.model import (
    AttendanceCode,
    AttendanceMarked,
    Directory,
    JournalEvent,
    LessonRecorded,
    MarkGiven,
    PeriodMarkGiven,
    Role,
)
from shared.wire import JournalPush, Outcome, SyncRequest

# The bench's laptops live through the whole school year, ahead of the machine's clock: the
# server is told to accept stamps that far ahead (its check is tested in tests/server).
YEAR_AHEAD = 400 * 24 * 3600

D = dt.date
BASE_URL = "http://bench.local"
TEACHER_LOGIN = "kuznetsov.av"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "BENCHMARKS.md"
SECTION = "## Sync core"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Plan:
    """The sizes of one run."""

    lessons_until: dt.date  # the demo school's lessons run up to this day
    server_events: int  # (c): events pushed through SyncService
    growths: tuple[int, ...]  # (d): how many times larger the teacher's journals get
    repeats: int  # small measurements are repeated and the median reported
    grown_repeats: int  # the same, for (d)'s slower day delta


def plan_for(*, quick: bool, scale: float) -> Plan:
    if quick:
        return Plan(
            lessons_until=D(2026, 9, 11),
            server_events=1_000,
            growths=(3, 6),
            repeats=3,
            grown_repeats=2,
        )
    return Plan(
        lessons_until=D(2027, 5, 31),  # the whole school year
        server_events=round(20_000 * scale),
        growths=(max(2, round(10 * scale)), max(3, round(50 * scale))),
        repeats=5,
        grown_repeats=3,
    )


@dataclass
class Row:
    """One line of the result table."""

    key: str  # stable: first_sync, day_entry, day_delta, server_day, server_journal, ...
    scenario: str
    events: int
    seconds: float
    sent: int | None = None  # request bodies, bytes
    received: int | None = None  # reply bodies, bytes
    requests: int | None = None  # HTTP round trips
    server_seconds: float | None = None  # time inside SyncService.sync
    json_bytes: int | None = None  # the same events as plain JSON
    json_zlib_bytes: int | None = None
    json_seconds: float | None = None  # POST of that JSON to a trivial endpoint
    note: str = ""

    @property
    def wire_bytes(self) -> int:
        return (self.sent or 0) + (self.received or 0)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


# ------------------------------------------------------------------------------ instruments


class Meter:
    """A sync transport that counts what crosses the wire: body bytes both ways, requests."""

    def __init__(self, api: ServerApi):
        self.api = api
        self.reset()

    def reset(self) -> None:
        self.sent = self.received = self.requests = 0

    def __call__(self, body: bytes) -> bytes:
        reply = self.api.sync(body)
        self.requests += 1
        self.sent += len(body)
        self.received += len(reply)
        return reply


class ServerTimer:
    """Adds up the time spent inside SyncService.sync: the server's share of a sync."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.profile: cProfile.Profile | None = None  # set: profile the server's thread too

    @contextmanager
    def installed(self) -> Iterator[ServerTimer]:
        original = SyncService.sync

        def timed(service: SyncService, request: SyncRequest):
            profile = self.profile
            started = time.perf_counter()
            if profile is not None:
                profile.enable()
            try:
                return original(service, request)
            finally:
                if profile is not None:
                    profile.disable()
                self.seconds += time.perf_counter() - started

        SyncService.sync = timed  # type: ignore[method-assign]
        try:
            yield self
        finally:
            SyncService.sync = original  # type: ignore[method-assign]


_json_events = msgspec.json.Decoder(list[JournalEvent])


@post("/events", status_code=200, request_max_body_size=512 * 1024 * 1024)
async def _take_events(request: Request) -> dict[str, int]:
    return {"count": len(_json_events.decode(await request.body()))}


class JsonBaseline:
    """The same events posted as plain JSON to an endpoint that decodes and counts them."""

    def __init__(self, repeats: int):
        self.repeats = repeats
        self.client = TestClient(Litestar(route_handlers=[_take_events]), base_url=BASE_URL)

    def __enter__(self) -> JsonBaseline:
        self.client.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.client.__exit__(*exc)

    def measure(
        self, events: list[JournalEvent], repeats: int | None = None
    ) -> tuple[int, int, float]:
        """(plain JSON bytes, zlib-compressed bytes, median seconds to encode and POST)."""
        times = []
        body = b""
        for _ in range(repeats or self.repeats):
            started = time.perf_counter()
            body = msgspec.json.encode(events)
            response = self.client.post(
                "/events", content=body, headers={"Content-Type": "application/json"}
            )
            times.append(time.perf_counter() - started)
            if response.status_code != 200 or response.json()["count"] != len(events):
                raise RuntimeError(f"JSON baseline endpoint answered {response.status_code}")
        return len(body), len(zlib.compress(body, 6)), statistics.median(times)


# ------------------------------------------------------------------------------ the school


@dataclass
class LessonPlan:
    """One lesson of the recorded day, as the demo wrote it: replayed on the laptop."""

    journal_id: str
    lesson: LessonRecorded
    attendance: list[AttendanceMarked]
    marks: list[MarkGiven]

    @property
    def events(self) -> int:
        return 1 + len(self.attendance) + len(self.marks)


@dataclass
class Setting:
    """The teacher, the journals they read, the day they record and what the server holds."""

    school: DemoSchool
    teacher: Account
    readable: list[str]
    own: list[str]
    day: dt.date
    lessons: list[LessonPlan]
    loaded: dict[str, list[JournalEvent]]  # readable journals without the recorded day


def _principal(directory: Directory, person_id: str, device_id: str) -> Principal:
    roles = next((s.roles for s in directory.staff if s.id == person_id), (Role.TEACHER,))
    return Principal(
        login=f"bench:{person_id}",
        role=Role.TEACHER,
        roles=roles,
        person_id=person_id,
        device_id=device_id,
    )


def prepare(school: DemoSchool) -> Setting:
    """Pick the teacher's last school day with three or more lessons and hold it back from the
    server: the laptop enters that day itself (b). Events that supersede it go too."""
    teacher = next(a for a in school.accounts if a.login == TEACHER_LOGIN)
    directory = school.directory
    access = journals_for(_principal(directory, teacher.person_id, "-"), directory)
    readable = sorted(access)
    own = sorted(j for j, info in access.items() if info.writable)
    by_day: dict[dt.date, list[tuple[str, LessonRecorded]]] = defaultdict(list)
    for journal in own:
        for event in school.events[journal]:
            if isinstance(event, LessonRecorded) and not event.supersedes:
                by_day[event.date].append((journal, event))
    busy = [d for d, lessons in by_day.items() if len(lessons) >= 3]
    day = max(busy) if busy else max(by_day, key=lambda d: (len(by_day[d]), d))
    lesson_ids = {lesson.lesson_id for _, lesson in by_day[day]}
    withheld: set[str] = set()
    for journal in own:
        for event in school.events[journal]:
            if getattr(event, "lesson_id", None) in lesson_ids:
                withheld.add(event.id)
    grew = True
    while grew:
        before = len(withheld)
        for journal in own:
            withheld.update(
                e.id for e in school.events[journal] if withheld.intersection(e.supersedes)
            )
        grew = len(withheld) > before
    lessons = []
    for journal, lesson in sorted(by_day[day], key=lambda item: item[1].hlc):
        mine = [
            e
            for e in school.events[journal]
            if getattr(e, "lesson_id", None) == lesson.lesson_id and not e.supersedes
        ]
        lessons.append(
            LessonPlan(
                journal_id=journal,
                lesson=lesson,
                attendance=[e for e in mine if isinstance(e, AttendanceMarked)],
                marks=[e for e in mine if isinstance(e, MarkGiven)],
            )
        )
    loaded = {j: [e for e in school.events[j] if e.id not in withheld] for j in readable}
    return Setting(school, teacher, readable, own, day, lessons, loaded)


def grow(setting: Setting, factor: int) -> dict[str, list[JournalEvent]]:
    """The teacher's own journals made `factor` times larger: every lesson of the year is
    recorded `factor` times (copies get new event and lesson ids, the same dates, their own HLC
    counters), with its attendance, marks and corrections. Duplicate lessons on one date are
    valid under shared.rules (a lesson's cell is its id). Period marks are not copied: a copy
    would sit in the same cell (period × pupil) and be a conflict, not a new entry."""

    def copy(event: JournalEvent, k: int) -> JournalEvent:
        wall, counter, node = parse_stamp(event.hlc)
        changes: dict[str, object] = {
            "id": f"{event.id}.x{k}",
            "hlc": format_stamp(wall, counter + 1000 * k, node),
            "supersedes": tuple(f"{s}.x{k}" for s in event.supersedes),
        }
        if isinstance(event, LessonRecorded | AttendanceMarked | MarkGiven):
            changes["lesson_id"] = f"{event.lesson_id}.x{k}"
        return msgspec.structs.replace(event, **changes)

    grown = dict(setting.loaded)
    for journal in setting.own:
        originals = setting.loaded[journal]
        skipped = {e.id for e in originals if isinstance(e, PeriodMarkGiven)}
        copyable = [e for e in originals if e.id not in skipped]
        copyable = [e for e in copyable if not skipped.intersection(e.supersedes)]
        grown[journal] = originals + [copy(e, k) for k in range(1, factor) for e in copyable]
    return grown


def make_server(
    folder: Path,
    setting: Setting,
    events: dict[str, list[JournalEvent]],
    *,
    through_sync: bool = True,
) -> tuple[ServerConfig, float]:
    """A fresh server database with the directory, the teacher's account and `events`; returns
    the config and the time the journals took to load.

    `through_sync`: every journal is pushed through SyncService as its teacher's device would
    (server.seeding), so it is checked and consolidated. Otherwise each journal's document is
    written straight into the update log (server.storage.journals, as a squash leaves it),
    without consolidated rows: what a sync needs, minutes faster for (d)'s large journals."""
    school, teacher = setting.school, setting.teacher
    config = ServerConfig(database=folder / "server.sqlite", max_clock_ahead_seconds=YEAR_AHEAD)
    conn = connect(config.database)
    try:
        create_schema(conn)
        load_directory(conn, school.directory, school.parents, school.parent_links)
        load_accounts(
            conn,
            [(teacher.login, teacher.password, teacher.role, teacher.person_id)],
            time.time(),
        )
        started = time.perf_counter()
        if through_sync:
            refused = load_journals(conn, config, school.directory, events)
            if refused:
                raise RuntimeError(f"the server refused {refused} demo events")
        else:
            _write_documents(conn, school.directory, events)
        took = time.perf_counter() - started
    finally:
        conn.close()
    return config, took


def _write_documents(
    conn: sqlite3.Connection, directory: Directory, events: dict[str, list[JournalEvent]]
) -> None:
    infos = {j.id: j for j in directory.journals}
    now = time.time()
    with transaction(conn):
        for journal, journal_events in sorted(events.items()):
            doc = JournalDoc()
            doc.add(journal_events)
            journal_storage.ensure_journal(conn, infos[journal], now)
            journal_storage.append_update(conn, journal, doc.snapshot(), None, now)
            journal_storage.set_state(conn, journal, doc.state_vector(), len(journal_events), now)


# ------------------------------------------------------------------------------ the laptop


class Laptop:
    """A teacher's laptop: a client Session logged in to the in-process server, whose sync link
    is metered and whose clock reads the afternoon of the recorded day."""

    def __init__(self, home: Path, client: TestClient, teacher: Account, day: dt.date):
        first = Session(home, http=client)
        try:
            first.login(
                BASE_URL,
                teacher.login,
                teacher.password,
                device_name="ноутбук (bench)",
                first_sync=False,  # the bench measures the first sync itself
            )
            token = first.store.get("token")
        finally:
            first.close()
        self.client = client
        self.meter = Meter(ServerApi(BASE_URL, token, http=client))
        self.session = Session(home, password=teacher.password, http=client, transport=self.meter)
        afternoon_clock(self.session.book, day)

    def close(self) -> None:
        self.session.close()

    def sync(self) -> list[SyncReport]:
        """Sync until complete (a large first sync takes several calls of MAX_ROUNDS rounds)."""
        reports = []
        for _ in range(50):
            reports.append(self.session.sync())
            if reports[-1].complete:
                return reports
        raise RuntimeError("sync did not complete in 50 calls")

    def warm_server(self, journals: list[str], *, cold: bool = False) -> None:
        """A server that runs all day keeps the journals it synced in memory, folded (see
        server/sync/documents.py); restoring its database file makes it read them again. This
        reads and folds them, untimed, as earlier syncs of the day would have. `cold`: forget
        them instead, as a server just restarted."""
        state = self.client.app.state
        if cold:
            state.documents = DocumentCache()
            return
        conn = connect(state.config.database)
        try:
            client_id = server_client_id(conn)
            for journal in journals:
                with state.documents.lock(journal):
                    state.documents.load(conn, journal, client_id).state()
        finally:
            conn.close()

    def open_journals(self, journals: list[str]) -> int:
        """Open journals as the teacher does before typing: load and fold; returns events."""
        return sum(len(self.session.book.state(j).events) for j in journals)

    def events_held(self, journals: list[str]) -> int:
        return sum(len(self.session.book.doc(j)) for j in journals)

    def enter_day(self, lessons: list[LessonPlan]) -> list[JournalEvent]:
        return enter_day(self.session.book, lessons)


def enter_day(book: JournalBook, lessons: list[LessonPlan]) -> list[JournalEvent]:
    """The teacher enters the day as the TUI would: each lesson, the attendance column (one
    call per code), then each mark; every call is checked and committed locally."""
    entered: list[JournalEvent] = []
    for plan in lessons:
        old = plan.lesson
        lesson = book.record_lesson(
            plan.journal_id,
            date=old.date,
            topic=old.topic,
            homework=old.homework,
            work_kind=old.work_kind,
            slot=old.slot,
        )
        entered.append(lesson)
        by_code: dict[AttendanceCode, list[str]] = defaultdict(list)
        for mark in plan.attendance:
            by_code[mark.code].append(mark.student_id)
        for code, students in by_code.items():
            entered += book.mark_attendance(plan.journal_id, lesson.lesson_id, students, code)
        for mark in plan.marks:
            entered.append(
                book.give_mark(
                    plan.journal_id,
                    lesson.lesson_id,
                    mark.student_id,
                    mark.value,
                    slot=mark.slot,
                    work_kind=mark.work_kind,
                    weight=mark.weight,
                )
            )
    return entered


def afternoon_clock(book: JournalBook, day: dt.date) -> None:
    """The laptop's clock reads the afternoon of the recorded day (half a second a tick)."""
    afternoon = dt.datetime(day.year, day.month, day.day, 14, 0, tzinfo=MSK).timestamp()
    ticks = iter(range(10**9))
    book.clock = Clock(book.device_id, now=lambda: afternoon + 0.5 * next(ticks))


@dataclass
class Profiles:
    """cProfile of the laptop's thread and, separately, of the server's worker thread."""

    client: cProfile.Profile
    server: cProfile.Profile


@dataclass
class SyncRun:
    seconds: float
    server_seconds: float
    sent: int
    received: int
    requests: int
    reports: list[SyncReport]


def timed_sync(laptop: Laptop, timer: ServerTimer) -> SyncRun:
    laptop.meter.reset()
    timer.seconds = 0.0
    started = time.perf_counter()
    reports = laptop.sync()
    took = time.perf_counter() - started
    m = laptop.meter
    return SyncRun(took, timer.seconds, m.sent, m.received, m.requests, reports)


def _median(values: list[float]) -> float:
    return statistics.median(values)


def first_sync_row(
    key: str, scenario: str, laptop: Laptop, timer: ServerTimer, setting: Setting, events
) -> tuple[Row, SyncRun]:
    run = timed_sync(laptop, timer)
    expected = sum(len(v) for v in events.values())
    held = laptop.events_held(setting.readable)
    if held != expected:
        raise RuntimeError(f"first sync left the laptop with {held} of {expected} events")
    calls = len(run.reports)
    row = Row(
        key=key,
        scenario=scenario,
        events=expected,
        seconds=run.seconds,
        sent=run.sent,
        received=run.received,
        requests=run.requests,
        server_seconds=run.server_seconds,
        note=f"{len(setting.readable)} journals; {calls} sync call(s) of up to 12 rounds",
    )
    return row, run


class Checkpoint:
    """Both databases as they are now (server and laptop), to sync the same day again."""

    def __init__(self, server_db: Path, store: LocalStore, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.server_db, self.store = server_db, store
        self.server_copy, self.store_copy = folder / "server.sqlite", folder / "store.sqlite"
        _copy_db(connect(server_db), sqlite3.connect(self.server_copy))
        twin = store.twin(self.store_copy)  # the laptop's store is encrypted: so is its copy
        try:
            with twin.backup("main", store.conn, "main") as backup:
                backup.step()
        finally:
            twin.close()

    def restore(self) -> None:
        """The laptop's in-memory documents stay valid: a day's sync brings them nothing new."""
        _copy_db(sqlite3.connect(self.server_copy), connect(self.server_db))
        twin = self.store.twin(self.store_copy)
        try:
            with self.store.conn.backup("main", twin, "main") as backup:
                backup.step()
        finally:
            twin.close()
        # The backup wrote every page into the store's WAL: fold it into the file now, or the
        # next commit's checkpoint copies the whole store inside the timed sync (a cost of the
        # restore that grows with the journals, not of syncing).
        self.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def _copy_db(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def day_rows(
    key: str,
    label: str,
    laptop: Laptop,
    timer: ServerTimer,
    setting: Setting,
    server_db: Path,
    repeats: int,
    profile: Profiles | None = None,
) -> tuple[Row, Row, Row, list[JournalEvent]]:
    """Enter the day once (timed), then sync it `repeats` times from the same starting point:
    both databases are restored between runs. Medians of sync time and bytes. Last, one idle
    sync (nothing new on either side): the fixed cost of a sync of all the journals."""
    journals = sorted({plan.journal_id for plan in setting.lessons})
    started = time.perf_counter()
    opened = laptop.open_journals(journals)
    open_seconds = time.perf_counter() - started
    if profile is not None:
        profile.client.enable()
    started = time.perf_counter()
    entered = laptop.enter_day(setting.lessons)
    entry_seconds = time.perf_counter() - started
    if profile is not None:
        profile.client.disable()
    checkpoint = Checkpoint(server_db, laptop.session.store, server_db.parent / key)
    runs = []
    for n in range(repeats + 1):  # the last run: the server just restarted
        if n:
            checkpoint.restore()
        cold = n == repeats
        laptop.warm_server(setting.readable, cold=cold)
        if profile is not None and n == 0:
            profile.client.enable()
            timer.profile = profile.server
        run = timed_sync(laptop, timer)
        if profile is not None and n == 0:
            profile.client.disable()
            timer.profile = None
        accepted = sum(r.accepted for r in run.reports)
        refused = sum(r.refused for r in run.reports)
        if accepted != len(entered) or refused:
            raise RuntimeError(f"day sync: {accepted} accepted, {refused} refused")
        runs.append(run)
    cold_run = runs.pop()
    idle_run = timed_sync(laptop, timer)
    idle = Row(
        key=f"{key}_idle",
        scenario=f"{label} idle sync, nothing new",
        events=0,
        seconds=idle_run.seconds,
        sent=idle_run.sent,
        received=idle_run.received,
        requests=idle_run.requests,
        server_seconds=idle_run.server_seconds,
        note=f"one run: {len(setting.readable)} journal ids and state vectors each way",
    )
    events = len(entered)
    opening = Row(
        key=f"{key}_open",
        scenario=f"{label} opening the day's journals on the laptop",
        events=opened,
        seconds=open_seconds,
        note=f"{len(journals)} journals read from the local store and folded, once per start "
        "of the app; one run",
    )
    cold = Row(
        key=f"{key}_cold",
        scenario=f"{label} syncing the day, server just restarted",
        events=events,
        seconds=cold_run.seconds,
        sent=cold_run.sent,
        received=cold_run.received,
        requests=cold_run.requests,
        server_seconds=cold_run.server_seconds,
        note="one run: the server reads and folds each journal the request touches, once per "
        "server process",
    )
    entry = Row(
        key=f"{key}_entry",
        scenario=f"{label} entering the day on the laptop (no network)",
        events=events,
        seconds=entry_seconds,
        note=f"{len(setting.lessons)} lessons, {events} entries "
        f"({entry_seconds / events * 1e3:.0f} ms each on average), each checked by shared.rules "
        "and committed; one run",
    )
    sync = Row(
        key=key,
        scenario=f"{label} syncing the day as a delta",
        events=events,
        seconds=_median([r.seconds for r in runs]),
        sent=round(_median([r.sent for r in runs])),
        received=round(_median([r.received for r in runs])),
        requests=round(_median([r.requests for r in runs])),
        server_seconds=_median([r.server_seconds for r in runs]),
        note=f"median of {repeats} (both databases restored between runs, the server's journals "
        f"in memory as after earlier syncs); the request carries all {len(setting.readable)} "
        "journals' state vectors",
    )
    return [opening, entry, sync, cold, idle], entered


# ------------------------------------------------------------------------------ (c) the server


AUTUMN_ENDS = D(2026, 11, 20)  # the demo school's own "today": an autumn term


def server_rows(school: DemoSchool, folder: Path, wanted: int, progress: Progress) -> list[Row]:
    """Push `wanted` demo events straight through SyncService: once as one request per teacher
    and day of entry, once as one request per journal. The events are the autumn term (entered
    before 20.11, as the demo has it), whole journals in id order until `wanted` is reached."""
    chosen: list[str] = []
    events: dict[str, list[JournalEvent]] = {}
    total = 0
    for journal in sorted(school.events):
        if total >= wanted:
            break
        autumn = [e for e in school.events[journal] if stamp_date(e.hlc) < AUTUMN_ENDS]
        if autumn:
            chosen.append(journal)
            events[journal] = autumn
            total += len(autumn)
    rows = []
    for mode in ("day", "journal"):
        progress(f"(c) server, {mode} batches: {total} events in {len(chosen)} journals")
        requests = _requests(school.directory, events, mode)
        config = ServerConfig(
            database=folder / f"server-{mode}.sqlite", max_clock_ahead_seconds=YEAR_AHEAD
        )
        conn = connect(config.database)
        try:
            create_schema(conn)
            load_directory(conn, school.directory, school.parents, school.parent_links)
            times = []
            # as the server process keeps them between requests
            documents, directories = DocumentCache(), DirectoryCache()
            for principal, request, count in requests:
                service = SyncService(conn, config, principal, documents, directories)
                started = time.perf_counter()
                response = service.sync(request)
                times.append((time.perf_counter() - started, count))
                for reply in response.journals:
                    if reply.outcome is not Outcome.ACCEPTED or reply.event_ids:
                        raise RuntimeError(f"{reply.journal_id}: {reply.outcome} {reply.rule}")
        finally:
            conn.close()
        seconds = sum(t for t, _ in times)
        if mode == "day":
            tenth = max(1, len(times) // 10)
            early = sum(t for t, _ in times[:tenth]) / sum(n for _, n in times[:tenth])
            late = sum(t for t, _ in times[-tenth:]) / sum(n for _, n in times[-tenth:])
            note = (
                f"{len(requests)} requests of ~{total / len(requests):.0f} events; "
                f"per event {early * 1e3:.2f} ms in the first tenth of the term, "
                f"{late * 1e3:.2f} ms in the last"
            )
            scenario = "(c) server applies day-sized requests (a teacher's day of entries)"
        else:
            note = f"{len(requests)} requests, ~{total / len(requests):.0f} events each"
            scenario = "(c) server applies one request per journal (the whole term at once)"
        rows.append(
            Row(
                key=f"server_{mode}",
                scenario=scenario,
                events=total,
                seconds=seconds,
                server_seconds=seconds,
                note=note,
            )
        )
    return rows


def _requests(
    directory: Directory, events: dict[str, list[JournalEvent]], mode: str
) -> list[tuple[Principal, SyncRequest, int]]:
    """The sync requests the teachers' devices would send, built before any timing."""
    docs: dict[str, JournalDoc] = {}
    result = []
    if mode == "journal":
        for journal, journal_events in sorted(events.items()):
            for (author, device), batch in groupby(journal_events, lambda e: (e.author, e.device)):
                doc = docs.setdefault(journal, JournalDoc())
                batch = list(batch)
                update = doc.add(batch)
                push = JournalPush(
                    journal_id=journal, state_vector=doc.state_vector(), update=update
                )
                request = SyncRequest(journals=(push,))
                result.append((_principal(directory, author, device), request, len(batch)))
        return result
    days: dict[tuple[dt.date, str, str], dict[str, list[JournalEvent]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for journal, journal_events in events.items():
        for event in journal_events:
            days[(stamp_date(event.hlc), event.author, event.device)][journal].append(event)
    for (_, author, device), by_journal in sorted(days.items()):
        pushes = []
        for journal, batch in sorted(by_journal.items()):
            doc = docs.setdefault(journal, JournalDoc())
            update = doc.add(batch)
            pushes.append(
                JournalPush(journal_id=journal, state_vector=doc.state_vector(), update=update)
            )
        count = sum(len(b) for b in by_journal.values())
        request = SyncRequest(journals=tuple(pushes))
        result.append((_principal(directory, author, device), request, count))
    return result


# ------------------------------------------------------------------------------ the run


def run(
    *,
    quick: bool = False,
    scale: float = 1.0,
    progress: Progress = lambda message: None,
    profile: Profiles | None = None,
) -> list[Row]:
    """Measure (a)–(d) once; returns the table's rows (see the module docstring)."""
    plan = plan_for(quick=quick, scale=scale)
    progress(f"building the demo school up to {plan.lessons_until:%d.%m.%Y}")
    school = build_demo_school(
        lessons_until=plan.lessons_until, today=plan.lessons_until + dt.timedelta(days=1)
    )
    setting = prepare(school)
    rows: list[Row] = []
    timer = ServerTimer()
    with (
        tempfile.TemporaryDirectory(prefix="zhurnal-bench-") as tmp,
        JsonBaseline(plan.repeats) as baseline,
        timer.installed(),
    ):
        folder = Path(tmp)
        # (a) and (b): the year on the server, a fresh laptop
        events = sum(len(v) for v in setting.loaded.values())
        progress(f"(a) loading {events} events of {len(setting.readable)} journals")
        config, _ = make_server(folder / "a", setting, setting.loaded)
        with TestClient(create_app(config), base_url=BASE_URL) as client:
            laptop = Laptop(folder / "a-laptop", client, setting.teacher, setting.day)
            try:
                progress("(a) first sync")
                first, _ = first_sync_row(
                    "first_sync",
                    "(a) first sync of the whole year, fresh laptop",
                    laptop,
                    timer,
                    setting,
                    setting.loaded,
                )
                everything = [e for j in setting.readable for e in setting.loaded[j]]
                first.json_bytes, first.json_zlib_bytes, first.json_seconds = baseline.measure(
                    everything
                )
                directory_bytes = len(
                    ServerApi(BASE_URL, laptop.meter.api.token, http=client).directory()
                )
                first.note += f"; login also fetched the directory ({_kb(directory_bytes)} JSON)"
                rows.append(first)
                progress(f"(b) entering and syncing {setting.day:%d.%m.%Y}, {plan.repeats}×")
                day, entered = day_rows(
                    "day_delta", "(b)", laptop, timer, setting, config.database, plan.repeats
                )
                delta = day[2]
                delta.json_bytes, delta.json_zlib_bytes, delta.json_seconds = baseline.measure(
                    entered
                )
                rows += day
            finally:
                laptop.close()
        # (c): the server alone
        rows += server_rows(school, folder, plan.server_events, progress)
        # (d): the teacher's journals, ten and fifty times larger
        for growth in plan.growths:
            last = growth == plan.growths[-1]
            rows += grown_rows(
                growth,
                setting,
                folder,
                timer,
                baseline,
                plan.grown_repeats,
                progress,
                profile if last else None,
            )
    return rows


def grown_rows(
    growth: int,
    setting: Setting,
    folder: Path,
    timer: ServerTimer,
    baseline: JsonBaseline,
    repeats: int,
    progress: Progress,
    profile: Profiles | None,
) -> list[Row]:
    """(d): (a) and (b) again with the teacher's own journals `growth` times larger."""
    rows: list[Row] = []
    tag = f"x{growth}"
    grown = grow(setting, growth)
    events = sum(len(v) for v in grown.values())
    own_events = sum(len(grown[j]) for j in setting.own)
    progress(f"(d) loading {events} events ({growth}× own journals: {own_events})")
    config, load_seconds = make_server(folder / f"d{tag}", setting, grown, through_sync=False)
    with TestClient(create_app(config), base_url=BASE_URL) as client:
        laptop = Laptop(folder / f"d{tag}-laptop", client, setting.teacher, setting.day)
        try:
            progress(f"(d) {growth}× first sync")
            grown_first, _ = first_sync_row(
                f"first_sync_{tag}",
                f"(d) first sync, {growth}× journals",
                laptop,
                timer,
                setting,
                grown,
            )
            grown_first.note += (
                f"; the teacher's own journals hold {own_events} events; the server was "
                f"filled by writing each document to its update log ({load_seconds:.1f} s)"
            )
            everything = [e for j in setting.readable for e in grown[j]]
            json_once = baseline.measure(everything, repeats=1)
            grown_first.json_bytes, grown_first.json_zlib_bytes = json_once[:2]
            grown_first.json_seconds = json_once[2]
            rows.append(grown_first)
            progress(f"(d) {growth}× entering and syncing the day, {repeats}×")
            day, entered = day_rows(
                f"day_delta_{tag}",
                f"(d) {growth}× journals",
                laptop,
                timer,
                setting,
                config.database,
                repeats,
                profile,
            )
            delta = day[2]
            delta.json_bytes, delta.json_zlib_bytes, delta.json_seconds = baseline.measure(entered)
            rows += day
        finally:
            laptop.close()
    return rows


# ------------------------------------------------------------------------------ the report


def _kb(n: int | None) -> str:
    if n is None:
        return "—"
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.2f} MB"


def _count(n: float) -> str:
    return f"{n:,.0f}".replace(",", " ")


def _time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _ratio(row: Row) -> str:
    if not row.json_bytes or row.sent is None:
        return "—"
    return f"{row.wire_bytes / row.json_bytes:.2f}× / {row.wire_bytes / row.json_zlib_bytes:.2f}×"


def table(rows: list[Row]) -> str:
    head = (
        "| Scenario | Events | Up | Down | Requests | Time | Server | Events/s "
        "| JSON | JSON+zlib | JSON POST | CRDT ÷ JSON (plain / zlib) |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in rows:
        lines.append(
            "| "
            + " | ".join(
                [
                    r.scenario,
                    _count(r.events),
                    _kb(r.sent),
                    _kb(r.received),
                    "—" if r.requests is None else str(r.requests),
                    _time(r.seconds),
                    _time(r.server_seconds),
                    _count(r.rate) if r.events else "—",
                    _kb(r.json_bytes),
                    _kb(r.json_zlib_bytes),
                    _time(r.json_seconds),
                    _ratio(r),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def growths(rows: list[Row]) -> list[int]:
    """The growth factors (d) ran with, from its rows' keys (first_sync_x10, …)."""
    return [int(r.key.rsplit("_x", 1)[1]) for r in rows if r.key.startswith("first_sync_x")]


def summary(rows: list[Row]) -> list[str]:
    by = {r.key: r for r in rows}
    lines = []
    labels = [("first_sync", "First sync (a)"), ("day_delta", "Day delta (b)")]
    for g in growths(rows):
        labels += [
            (f"first_sync_x{g}", f"First sync, {g}× journals (d)"),
            (f"day_delta_x{g}", f"Day delta, {g}× journals (d)"),
        ]
    for key, label in labels:
        r = by.get(key)
        if r is None or not r.json_bytes:
            continue
        lines.append(
            f"{label}: CRDT {_kb(r.wire_bytes)} (up {_kb(r.sent)}, down {_kb(r.received)}, "
            f"round trips {r.requests}, {_time(r.seconds)}) vs JSON {_kb(r.json_bytes)} = "
            f"{r.wire_bytes / r.json_bytes:.2f}× (vs zlib JSON {_kb(r.json_zlib_bytes)} = "
            f"{r.wire_bytes / r.json_zlib_bytes:.2f}×; JSON POST {_time(r.json_seconds)})"
        )
    small = by.get("day_delta")
    for g in growths(rows):
        big = by.get(f"day_delta_x{g}")
        if small and big:
            lines.append(
                f"Day delta, {g}× vs 1× journals: bytes {big.wire_bytes / small.wire_bytes:.2f}×, "
                f"sync time {big.seconds / small.seconds:.1f}× (server "
                f"{big.server_seconds / small.server_seconds:.1f}×)"
            )
        for what, key in (
            ("Entering the day", "entry"),
            ("Opening the day's journals", "open"),
            ("Syncing the day on a server just restarted", "cold"),
        ):
            one, grown = by.get(f"day_delta_{key}"), by.get(f"day_delta_x{g}_{key}")
            if one and grown:
                lines.append(f"{what}, {g}× vs 1×: time {grown.seconds / one.seconds:.1f}×")
    day, whole = by.get("server_day"), by.get("server_journal")
    if day and whole:
        lines.append(
            f"Server: {_count(day.rate)} events/s in day-sized requests, "
            f"{_count(whole.rate)} events/s in one request per journal "
            f"({whole.rate / day.rate:.1f}× faster)"
        )
    return lines


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"{dt.date.today():%Y-%m-%d}, {platform.platform()}, {_cpu()}, "
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
        f"Python {platform.python_version()}, pycrdt {importlib.metadata.version('pycrdt')}, "
        f"peak RSS {peak_mb:.0f} MB, load average {os.getloadavg()[0]:.1f} at the end (other "
        "work on the machine makes times noisy; the ratios within one run are what to read)"
    )


def markdown(rows: list[Row], *, command: str, seconds: float) -> str:
    parts = [
        SECTION,
        "",
        f"`{command}` — {machine()}; the run took {seconds:.0f} s.",
        "",
        "Teacher `kuznetsov.av` of the demo school (12 journals he writes, 12 of his class he "
        "reads). Server and laptop run in one process (Litestar `TestClient`, no network), so "
        "times are the wall time of both sides together (disk syncs included, no latency); "
        "Server is the part spent inside `SyncService.sync`. Up/Down are sync request/reply "
        "bodies (msgpack + zlib); KB = 1024 B. JSON is `msgspec.json.encode` of the same list "
        "of events; JSON POST is encoding it and posting it to a trivial in-process endpoint "
        "that decodes and counts (no storage: a lower bound).",
        "",
        "- (a) The server is filled through `server.seeding` (every journal pushed through "
        "`SyncService`, checked and consolidated); a fresh laptop logs in, then syncs until "
        "complete.",
        "- (b) The teacher's last school day with three or more lessons is held back from the "
        "server; the laptop enters it through `JournalBook` (lesson, attendance column, each "
        "mark, as the TUI does), its journals opened first as the teacher would, and syncs it. "
        "The sync is repeated from the same state (both databases restored), with the "
        "server's documents in memory as after earlier syncs of the day; then once on a "
        "server just restarted.",
        "- (c) The demo's autumn term (entries before 20.11), whole journals up to the sample "
        "size, pushed straight into `SyncService` on a fresh database, as one request per "
        "teacher and day of entry, then as one request per journal.",
        "- (d) The teacher's own journals grow by recording every lesson of the year again "
        "under new lesson and event ids (same dates and pupils, own HLC counters), with its "
        "attendance, marks and corrections: valid under `shared.rules`, since a lesson's "
        "cell is its id (period marks are not copied: a copy would conflict in its cell). "
        "The class journals he only reads stay as they are. Then (a) and (b) again, at "
        f"{' and '.join(f'{g}×' for g in growths(rows))} a year's size.",
        "",
        table(rows),
        "",
        *(f"- {line}" for line in summary(rows)),
        "",
        "Notes:",
        "",
        *(f"- {r.scenario}: {r.note}" for r in rows if r.note),
        "",
    ]
    return "\n".join(parts)


def write_section(text: str, path: Path = DOCS, section: str = SECTION) -> None:
    """Replace (or add) one "## …" section of docs/BENCHMARKS.md, keeping the others."""
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = current.find(section + "\n")
    if start < 0:
        new = current.rstrip("\n") + "\n\n" + text
    else:
        end = current.find("\n## ", start + len(section))
        rest = current[end + 1 :] if end >= 0 else ""
        new = current[:start] + text + ("\n" + rest if rest else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="(c) and (d) sizes, ×")
    parser.add_argument("--quick", action="store_true", help="a tiny run for a smoke test")
    parser.add_argument("--profile", action="store_true", help="cProfile the last (d) delta")
    parser.add_argument("--output", type=Path, help="where to write the Markdown section")
    args = parser.parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request
    profile = Profiles(cProfile.Profile(), cProfile.Profile()) if args.profile else None
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:5.1f} s] {message}", file=sys.stderr, flush=True)

    rows = run(quick=args.quick, scale=args.scale, progress=progress, profile=profile)
    seconds = time.perf_counter() - started
    command = "python -m scripts.bench.sync_bench" + (" --quick" if args.quick else "")
    if args.scale != 1.0:
        command += f" --scale {args.scale:g}"
    text = markdown(rows, command=command, seconds=seconds)
    print(text)
    output = args.output or (None if args.quick else DOCS)
    if output is not None:
        write_section(text, output)
        print(f"written to {output}", file=sys.stderr)
    if profile is not None:
        for side, stats in (("laptop", profile.client), ("server", profile.server)):
            out = io.StringIO()
            pstats.Stats(stats, stream=out).sort_stats("cumulative").print_stats(35)
            print(
                f"--- cProfile, last (d) day, {side} thread ---\n{out.getvalue()}", file=sys.stderr
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
