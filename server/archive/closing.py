"""Closing a school year and authorising corrections to it (000 §5.3, §7.1–7.3).

After closing, the rule `year_not_closed` (shared/rules.py) refuses every new entry of that
year's journals, on the server and at the keyboard, except a correction by someone holding a
grant from the deputy director or the director; every such correction is logged.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time

from server.archive import personal_file
from server.errors import AccessDenied, BadRequest, NotFound
from server.storage import accounts, school_time
from server.storage import archive as storage
from server.storage import directory as directory_storage
from server.storage.db import transaction
from server.sync.withdrawals import withdraw_closed_year_refusals
from shared.model import ADMINISTRATION, CorrectionGrant, Role, YearClosure, parse_journal_id

CLOSERS = frozenset({*ADMINISTRATION, Role.RECORDS_OFFICER})
GRANTERS = ADMINISTRATION
DEFAULT_GRANT_DAYS = 7


def actor(conn: sqlite3.Connection, login: str, allowed: frozenset[Role], action: str) -> str:
    """The person behind `login`, who must hold one of `allowed` roles; else AccessDenied."""
    account = accounts.get_account(conn, login)
    if account is None or not account.active:
        raise AccessDenied(f"Учётная запись «{login}» не найдена или отключена.")
    roles = directory_storage.staff_roles(conn, account.person_id) or (account.role,)
    if not allowed.intersection(roles):
        raise AccessDenied(f"Недостаточно прав: {action}.")
    return account.person_id


def actor_school(conn: sqlite3.Connection, login: str) -> str | None:
    """The school of the person behind `login`: they act on their own school's years only."""
    account = accounts.get_account(conn, login)
    return directory_storage.school_of(conn, account.role, account.person_id) if account else None


def year_row(
    conn: sqlite3.Connection, year_id: str | None, school_id: str | None = None
) -> sqlite3.Row:
    """The year (default: the newest) — of `school_id` only, when given."""
    school = "" if school_id is None else " AND school_id = ?"
    params = () if school_id is None else (school_id,)
    if year_id:
        row = conn.execute(
            f"SELECT * FROM years WHERE id = ?{school}", (year_id, *params)
        ).fetchone()
    else:
        row = conn.execute(
            f"SELECT * FROM years WHERE 1{school} ORDER BY starts DESC", params
        ).fetchone()
    if row is None:
        raise NotFound(f"Учебный год «{year_id}» не найден." if year_id else "В базе нет года.")
    return row


def close_year(
    conn: sqlite3.Connection,
    *,
    login: str,
    year_id: str | None = None,
    on: dt.date | None = None,
    now: float | None = None,
    early_reason: str = "",
) -> YearClosure:
    """Close the year: from now on its journals take only authorised corrections.

    The day is the server's today in the school's time zone (`on` only for the operator's
    command line and tests, never from a request). Before the year's last day only the
    director may close it, with a reason, which is logged."""
    person = actor(
        conn, login, CLOSERS, "закрыть учебный год может заместитель директора или документовед"
    )
    year = year_row(conn, year_id, actor_school(conn, login))
    now = time.time() if now is None else now
    on = on or school_time.today(conn, year["school_id"], now)
    ends = dt.date.fromisoformat(year["ends"])
    reason = early_reason.strip()
    if on < ends:
        if not reason:
            raise BadRequest(
                f"Учебный год {year['name']} идёт до {ends:%d.%m.%Y}: закрыть его можно после "
                "последнего учебного дня. Раньше срока год закрывает только директор, указав "
                "причину."
            )
        actor(conn, login, frozenset({Role.DIRECTOR}), "закрыть год досрочно может только директор")
    with transaction(conn):
        if storage.closure(conn, year["id"]) is not None:
            raise BadRequest(f"Учебный год {year['name']} уже закрыт.")
        storage.close_year(conn, year["id"], on, person, login, now)
        storage.log_year_action(
            conn, year["id"], "early_close" if on < ends else "close", login, reason, now
        )
        personal_file.record_year(conn, year["id"], now)  # the year marks reach the personal files
    closure = storage.closure(conn, year["id"])
    assert closure is not None
    return closure


def reopen_year(
    conn: sqlite3.Connection, *, login: str, year_id: str, reason: str, now: float | None = None
) -> int:
    """Undo a mistaken close: only the director, with a reason, which is logged. The journals
    take entries again, and the entries refused only because the year was closed are accepted
    (their refusals withdrawn in the same transaction, server/sync/withdrawals.py) unless they
    break another rule now; the laptops see it at their next sync. Returns how many entries
    count again."""
    actor(conn, login, frozenset({Role.DIRECTOR}), "открыть закрытый год может только директор")
    year = year_row(conn, year_id, actor_school(conn, login))
    if not reason.strip():
        raise BadRequest("Укажите причину, по которой год открывается снова: она хранится.")
    now = time.time() if now is None else now
    with transaction(conn):
        if storage.closure(conn, year["id"]) is None:
            raise BadRequest(f"Учебный год {year['name']} не закрыт.")
        storage.reopen_year(conn, year["id"])
        storage.log_year_action(conn, year["id"], "reopen", login, reason.strip(), now)
        directory = directory_storage.load_full(conn, year["id"], school_id=year["school_id"])
        return withdraw_closed_year_refusals(conn, directory, reason.strip(), now)


def grant_correction(
    conn: sqlite3.Connection,
    *,
    login: str,
    journal_id: str,
    person_id: str,
    reason: str,
    days: int = DEFAULT_GRANT_DAYS,
    today: dt.date | None = None,
    now: float | None = None,
) -> CorrectionGrant:
    """Allow `person_id` to correct `journal_id` of a closed year for `days` days."""
    granted_by = actor(
        conn, login, GRANTERS, "исправления разрешает заместитель директора или директор"
    )
    if not reason.strip():
        raise BadRequest("Укажите причину исправления: она хранится в журнале исправлений.")
    if not 1 <= days <= 90:
        raise BadRequest("Срок разрешения — от 1 до 90 дней.")
    try:
        year_id, _, _ = parse_journal_id(journal_id)
    except ValueError as exc:
        raise NotFound(f"Журнал «{journal_id}» не найден.") from exc
    try:
        directory = directory_storage.load_full(conn, year_id, school_id=actor_school(conn, login))
    except LookupError:
        raise NotFound(f"Журнал «{journal_id}» не найден.") from None
    if journal_id not in {j.id for j in directory.journals}:
        raise NotFound(f"Журнал «{journal_id}» не найден.")
    if directory.closure is None:
        raise BadRequest(
            f"Учебный год {directory.year.name} не закрыт: исправления вносятся как обычно."
        )
    if person_id not in {s.id for s in directory.staff}:
        raise NotFound(f"Сотрудник «{person_id}» не найден.")
    if person_id == granted_by:
        raise AccessDenied(
            "Разрешение на исправление выдаёт другой человек: себе его выдать нельзя "
            "(заместителю директора — директор)."
        )
    today = today or school_time.today(conn, directory.school.id, now)
    if any(
        g.journal_id == journal_id and g.person_id == person_id
        for g in storage.active_grants(conn, year_id, today)
    ):
        raise BadRequest(
            "У этого сотрудника уже есть действующее разрешение на исправление этого журнала."
        )
    expires = today + dt.timedelta(days=days)
    with transaction(conn):
        grant_id = storage.grant_correction(
            conn,
            year_id=year_id,
            journal_id=journal_id,
            person_id=person_id,
            reason=reason.strip(),
            granted_by=granted_by,
            expires_on=expires,
            now=now or time.time(),
        )
    return CorrectionGrant(
        id=grant_id,
        journal_id=journal_id,
        person_id=person_id,
        reason=reason.strip(),
        granted_by=granted_by,
        expires_on=expires,
    )
