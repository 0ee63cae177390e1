"""What the end-to-end tests type and what they check: valid journal entries for the fixture
school (MATH_5, pupils s-1..s-4, taught by `math`), and views of the server's database and of
folded journals that two replicas (or a replica and the consolidated rows) must agree on."""

from __future__ import annotations

import datetime as dt
import queue
import random
import sqlite3
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable

import httpx

from client_tui.services.journals import JournalBook
from server.storage.journals import load_document
from shared.fold import JournalState, fold
from shared.journal import JournalDoc
from shared.model import AttendanceCode, AttendanceMarked, LessonRecorded, MarkGiven, WorkKind

PUPILS = ("s-1", "s-2", "s-3", "s-4")  # tests.factories: CLASS_5
FIRST_DAY = dt.date(2026, 9, 1)
# Codes that still allow a mark (an absence without a document would refuse the pupil's marks).
PRESENT_CODES = (AttendanceCode.PRESENT, AttendanceCode.LATE, AttendanceCode.ILL)


def lesson_days() -> list[dt.date]:
    """School days from the first of September to today (the rules refuse future lessons)."""
    last = min(dt.date.today(), dt.date(2027, 5, 31))
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range((last - FIRST_DAY).days + 1)]
    return [d for d in days if d.weekday() < 5] or [FIRST_DAY]


def record_step(book: JournalBook, journal_id: str, rng: random.Random) -> list[str]:
    """One thing a teacher does, through the service layer; returns the saved event ids.

    A new lesson, a column of attendance, a mark, or the correction of a mark.
    """
    lessons = book.state(journal_id).lessons()
    roll = rng.random()
    if not lessons or roll < 0.2:
        lesson = book.record_lesson(
            journal_id,
            date=rng.choice(lesson_days()),
            slot=rng.choice((1, 1, 2)),
            topic=f"Тема {rng.randrange(1000)}",
            homework=f"§{rng.randrange(1, 40)}, № {rng.randrange(1, 500)}",
            work_kind=rng.choice((WorkKind.REGULAR, WorkKind.CONTROL, WorkKind.INDEPENDENT)),
        )
        return [lesson.id]
    lesson = rng.choice(lessons)
    if roll < 0.45:
        pupils = rng.sample(PUPILS, rng.randint(1, len(PUPILS)))
        marked = book.mark_attendance(
            journal_id, lesson.lesson_id, pupils, rng.choice(PRESENT_CODES)
        )
        return [e.id for e in marked]
    mark = book.give_mark(
        journal_id,
        lesson.lesson_id,
        rng.choice(PUPILS),
        rng.randint(2, 5),
        slot=rng.randrange(3),
        reason="исправление" if roll > 0.9 else "",  # a correction on another day needs one
    )
    return [mark.id]


def record_burst(book: JournalBook, journal_id: str, rng: random.Random, steps: int) -> list[str]:
    ids: list[str] = []
    for _ in range(steps):
        ids += record_step(book, journal_id, rng)
    return ids


def bulk_record(
    book: JournalBook, journal_id: str, *, lessons: int, marks_per_pupil: int, attendance: bool
) -> list[str]:
    """Many valid entries in few commits (a term's journal typed in one evening).

    Goes through `JournalBook.commit`, so the shared rules check every event and it is
    committed to the local store before this returns, like any edit.
    """
    assert marks_per_pupil <= 10, "MarkGiven.slot is 0..9"
    days = lesson_days()

    def stamp() -> dict:
        return {
            "id": uuid.uuid4().hex,
            "author": book.person_id,
            "device": book.device_id,
            "hlc": book.clock.tick(),
        }

    recorded = [
        LessonRecorded(
            **stamp(),
            lesson_id=f"L{uuid.uuid4().hex[:16]}",
            date=days[i % len(days)],
            slot=1 + (i // len(days)) % 4,
            topic=f"Урок {i + 1}",
            homework=f"№ {i + 1}",
        )
        for i in range(lessons)
    ]
    book.commit(journal_id, recorded)
    entries: list[AttendanceMarked | MarkGiven] = []
    for n, lesson in enumerate(recorded):
        for k, pupil in enumerate(PUPILS):
            if attendance:
                entries.append(
                    AttendanceMarked(
                        **stamp(),
                        lesson_id=lesson.lesson_id,
                        student_id=pupil,
                        code=PRESENT_CODES[(n + k) % len(PRESENT_CODES)],
                    )
                )
            entries += [
                MarkGiven(
                    **stamp(),
                    lesson_id=lesson.lesson_id,
                    student_id=pupil,
                    value=1 + (n + k + slot) % 5,
                    slot=slot,
                )
                for slot in range(marks_per_pupil)
            ]
    book.commit(journal_id, entries)
    return [e.id for e in recorded] + [e.id for e in entries]


# ---------------------------------------------------------------------- views to compare


def folded_view(state: JournalState) -> dict:
    """What a replica shows: every event id, every refusal, and each cell's live entries and
    current value. Two replicas that converged have equal views."""
    return {
        "events": sorted(state.events),
        "refusals": sorted(state.refusals),
        "cells": {
            key: (sorted(e.id for e in cell.live), cell.value.id if cell.value else None)
            for key, cell in state.cells.items()
        },
    }


def server_event_counts(conn: sqlite3.Connection, journal_id: str | None = None) -> Counter:
    sql, params = "SELECT id FROM events", ()
    if journal_id is not None:
        sql, params = sql + " WHERE journal_id = ?", (journal_id,)
    return Counter(row[0] for row in conn.execute(sql, params))


def server_doc(conn: sqlite3.Connection, journal_id: str) -> JournalDoc:
    """The journal's document as the server stores it (its update log)."""
    conn.row_factory = sqlite3.Row
    state, _ = load_document(conn, journal_id)
    return JournalDoc(state or None)


def consolidated(conn: sqlite3.Connection, journal_id: str) -> dict[str, dict]:
    """The server's consolidated rows of a journal: cell -> the event that is its value."""
    marks = {
        ("mark", r[0], r[1], str(r[2])): r[3]
        for r in conn.execute(
            "SELECT lesson_id, student_id, slot, event_id FROM marks WHERE journal_id = ?",
            (journal_id,),
        )
    }
    attendance = {
        ("attendance", r[0], r[1]): r[2]
        for r in conn.execute(
            "SELECT lesson_id, student_id, event_id FROM attendance WHERE journal_id = ?",
            (journal_id,),
        )
    }
    lessons = {
        ("lesson", r[0]): r[1]
        for r in conn.execute(
            "SELECT lesson_id, event_id FROM lessons WHERE journal_id = ?", (journal_id,)
        )
    }
    return {"mark": marks, "attendance": attendance, "lesson": lessons}


def expected_consolidated(state: JournalState) -> dict[str, dict]:
    """The consolidated rows a folded journal implies: every cell that has a value."""
    result: dict[str, dict] = {"mark": {}, "attendance": {}, "lesson": {}}
    for key, cell in state.cells.items():
        if key[0] in result and cell.value is not None:
            result[key[0]][key] = cell.value.id
    return result


def folded(doc: JournalDoc) -> JournalState:
    return fold(doc.events())


def integrity(conn: sqlite3.Connection) -> str:
    return conn.execute("PRAGMA integrity_check").fetchone()[0]


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.005) -> bool:
    """Poll until `predicate()` is true; False when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


# ---------------------------------------------------------------------- processes, wire


def request_head_size(request: httpx.Request) -> int:
    """Bytes of the HTTP/1.1 request line and headers, as h11 writes them."""
    line = len(request.method) + 1 + len(request.url.raw_path) + len(" HTTP/1.1\r\n")
    return line + sum(len(k) + 2 + len(v) + 2 for k, v in request.headers.raw) + 2


class LineReader:
    """Reads a child's stdout lines in a thread, so the parent can wait with a timeout."""

    def __init__(self, proc: subprocess.Popen[str]):
        assert proc.stdout is not None
        self._stream = proc.stdout
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.ended = False
        self._thread = threading.Thread(target=self._run, name="child-stdout", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for line in self._stream:
            if line.endswith("\n"):  # a half-printed last line was not reported
                self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next(self, timeout: float) -> str | None:
        """The next complete line, None at end of output; raises queue.Empty on timeout."""
        if self.ended:
            return None
        line = self.lines.get(timeout=timeout)
        self.ended = line is None
        return line

    def rest(self, timeout: float) -> list[str]:
        """Every remaining complete line, once the child is gone."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the child's stdout did not close"
        out = []
        while not self.ended:
            line = self.lines.get_nowait()
            self.ended = line is None
            if line is not None:
                out.append(line)
        return out


def ids_from(lines: Iterable[str]) -> list[str]:
    return [line.split()[1] for line in lines if line.startswith("SAVED ")]
