"""The paperwork of June (000 §7.1–7.3): where each journal of the year stands against the
30 June deadline — complete, printed, signed on paper, archived.

- complete: every pupil on the class list at the year's end has a year mark in the journal;
- printed: its archival PDF is in the cache (server/archive/pdf_cache.py) and nothing reached the
  journal since it was printed;
- signed: the deputy or the records officer recorded that the printed copy was signed by the
  teacher and the director and sealed (the signature is on paper; the server keeps the fact);
- archived: a year package of the year, or a package of the journal, was made after its last
  change.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from dataclasses import dataclass

from server.archive.closing import CLOSERS, actor, actor_school
from server.errors import BadRequest, NotFound
from server.storage import directory as directory_storage
from server.storage import school_time
from server.storage.db import transaction
from shared import groups
from shared.model import Directory, PeriodKind, parse_journal_id

SIGNERS = CLOSERS  # who records the paper signature: administration and records officer


def deadline(directory: Directory) -> dt.date:
    """30 June of the year the school year ends in (000 §7.1)."""
    return dt.date(directory.year.ends.year, 6, 30)


@dataclass(frozen=True)
class JournalStanding:
    journal_id: str
    class_name: str
    subject: str
    pupils: int
    with_year_mark: int
    printed_at: float | None  # when its archival PDF was printed, if still current
    printed_stale: bool  # printed, but the journal changed since
    signed_on: dt.date | None
    archived_in: str | None  # the newest package made after its last change
    archived_stale: bool  # archived, but the journal changed since

    @property
    def complete(self) -> bool:
        return self.pupils > 0 and self.with_year_mark >= self.pupils

    @property
    def done(self) -> bool:
        return bool(self.complete and self.printed_at and self.signed_on and self.archived_in)


def standings(conn: sqlite3.Connection, directory: Directory) -> list[JournalStanding]:
    year_id = directory.year.id
    classes = {c.id: c.name for c in directory.classes}
    year_periods = {p.id for p in directory.periods if p.kind == PeriodKind.YEAR}
    marked: dict[str, set[str]] = {}
    for row in conn.execute(
        "SELECT journal_id, period_id, student_id FROM period_marks WHERE journal_id LIKE ?",
        (f"{year_id}~%",),
    ):
        if row["period_id"] in year_periods:
            marked.setdefault(row["journal_id"], set()).add(row["student_id"])
    updated = {
        r["id"]: r["updated_at"]
        for r in conn.execute("SELECT id, updated_at FROM journals WHERE year_id = ?", (year_id,))
    }
    printed = {
        r["journal_id"]: r["made_at"]
        for r in conn.execute("SELECT journal_id, made_at FROM archive_pdf_cache")
    }
    signed = {
        r["journal_id"]: dt.date.fromisoformat(r["signed_on"])
        for r in conn.execute("SELECT journal_id, signed_on FROM journal_signoffs")
    }
    packages = conn.execute(
        "SELECT name, kind, journal_id, created_at FROM archive_packages WHERE year_id = ? "
        "ORDER BY created_at DESC",
        (year_id,),
    ).fetchall()
    result = []
    for journal in directory.journals:
        roster = {s.id for s in groups.roster(directory, journal, directory.year.ends)}
        changed = updated.get(journal.id, 0.0)
        made = printed.get(journal.id)
        package = next(
            (p for p in packages if p["kind"] == "year" or p["journal_id"] == journal.id), None
        )
        result.append(
            JournalStanding(
                journal_id=journal.id,
                class_name=classes.get(journal.class_id, journal.class_id),
                subject=groups.section_title(directory, journal),
                pupils=len(roster),
                with_year_mark=len(roster & marked.get(journal.id, set())),
                printed_at=made if made is not None and made >= changed else None,
                printed_stale=made is not None and made < changed,
                signed_on=signed.get(journal.id),
                archived_in=package["name"]
                if package and package["created_at"] >= changed
                else None,
                archived_stale=bool(package) and package["created_at"] < changed,
            )
        )
    return sorted(result, key=lambda s: (len(s.class_name), s.class_name, s.subject))


def record_signed(
    conn: sqlite3.Connection,
    *,
    login: str,
    journal_id: str,
    signed_on: dt.date,
    today: dt.date | None = None,
) -> None:
    """Record that the printed journal was signed and sealed on paper, on `signed_on`."""
    person = actor(
        conn, login, SIGNERS, "подпись журнала отмечает заместитель директора или документовед"
    )
    school = actor_school(conn, login)
    try:
        year_id = parse_journal_id(journal_id)[0]
        directory = directory_storage.load_full(conn, year_id, school_id=school)
    except (ValueError, LookupError):
        raise NotFound(f"Журнал «{journal_id}» не найден.") from None
    if journal_id not in {j.id for j in directory.journals}:
        raise NotFound(f"Журнал «{journal_id}» не найден.")
    today = today or school_time.today(conn, school)  # the school's day, not the server's
    if signed_on > today:
        raise BadRequest("Дата подписи не может быть позже сегодняшней.")
    if signed_on < directory.year.starts:
        raise BadRequest(f"Дата подписи раньше начала учебного года {directory.year.name}.")
    with transaction(conn):
        conn.execute(
            "INSERT OR REPLACE INTO journal_signoffs (journal_id, signed_on, recorded_by, "
            "recorded_at) VALUES (?, ?, ?, ?)",
            (journal_id, signed_on.isoformat(), person, time.time()),
        )
