"""Achievements and attachments for the page tests: written as the sync would leave them
(portfolio.save for the achievements, attachment rows inserted whole)."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import time

from server.archive import personal_file
from server.storage import portfolio
from server.storage.db import transaction
from shared.model import (
    Achievement,
    AchievementKind,
    AchievementLevel,
    AchievementResult,
    Attachment,
)
from tests.factories import YEAR

DIPLOMA = b"%PDF-1.4\n% diploma of s-1\n%%EOF\n"
CERTIFICATE = b"\x89PNG\r\n\x1a\n certificate of s-2"
UNFINISHED = b"%PDF-1.4\n% half uploaded"


def sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def attachment(body: bytes, name: str, media_type: str) -> Attachment:
    return Attachment(sha256=sha(body), name=name, media_type=media_type, size=len(body))


def store(conn: sqlite3.Connection, body: bytes, media_type: str, *, complete: bool) -> None:
    conn.execute(
        "INSERT INTO attachments (sha256, media_type, size, received, body, uploaded_by, "
        "created_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            sha(body),
            media_type,
            len(body),
            len(body) if complete else len(body) // 2,
            body if complete else body[: len(body) // 2],
            "math",
            time.time(),
            time.time() if complete else None,
        ),
    )


def achievement(id: str, student: str, **fields) -> Achievement:
    base = {
        "year_id": YEAR,
        "kind": AchievementKind.OLYMPIAD,
        "title": "Олимпиада",
        "date": dt.date(2026, 10, 15),
        "author": "t-math",
    }
    return Achievement(id=id, student_id=student, **(base | fields))


ACHIEVEMENTS = (
    achievement(
        "a-1",
        "s-1",
        title="Региональный этап ВсОШ по математике",
        area="математика",
        level=AchievementLevel.REGIONAL,
        result=AchievementResult.WINNER,
        organiser="Министерство образования области",
        attachment=attachment(DIPLOMA, "Диплом победителя.pdf", "application/pdf"),
    ),
    achievement(
        "a-2",
        "s-1",
        kind=AchievementKind.GTO,
        title="Нормы ГТО, III ступень",
        level=AchievementLevel.MUNICIPAL,
        result=AchievementResult.GTO_SILVER,
        date=dt.date(2026, 9, 20),
    ),
    achievement(
        "a-3",
        "s-2",
        kind=AchievementKind.CONTEST,
        title="Конкурс чтецов «Живая классика»",
        area="литература",
        level=AchievementLevel.MUNICIPAL,
        result=AchievementResult.PRIZE_WINNER,
        attachment=attachment(CERTIFICATE, "грамота.png", "image/png"),
    ),
    achievement(
        "a-4",
        "s-3",
        kind=AchievementKind.PROJECT,
        title="Школьная научная конференция",
        attachment=attachment(UNFINISHED, "работа.pdf", "application/pdf"),
    ),
    achievement(
        "a-5",
        "s-5",
        kind=AchievementKind.SPORTS,
        title="Первенство школы по лёгкой атлетике",
        level=AchievementLevel.SCHOOL,
        result=AchievementResult.PARTICIPANT,
    ),
)


def add_achievements(conn: sqlite3.Connection) -> None:
    """The achievements above and their documents (a-4's upload unfinished)."""
    with transaction(conn):
        for item in ACHIEVEMENTS:
            portfolio.save(conn, item)
        store(conn, DIPLOMA, "application/pdf", complete=True)
        store(conn, CERTIFICATE, "image/png", complete=True)
        store(conn, UNFINISHED, "application/pdf", complete=False)


def add_portfolio(conn: sqlite3.Connection) -> None:
    """add_achievements, and the personal files of the year as closing it would write them."""
    add_achievements(conn)
    with transaction(conn):
        personal_file.record_year(conn, YEAR)
