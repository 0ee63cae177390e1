"""The SQL of the year-end archive: closures, correction grants and their log, packages made,
the retention policy, destruction acts and the log of what they removed."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable

from shared.model import CorrectionGrant, JournalEvent, YearClosure, encode_event

# ----------------------------------------------------------------- closing a year


def closure(conn: sqlite3.Connection, year_id: str) -> YearClosure | None:
    row = conn.execute("SELECT * FROM year_closures WHERE year_id = ?", (year_id,)).fetchone()
    if row is None:
        return None
    return YearClosure(
        year_id=row["year_id"],
        closed_on=dt.date.fromisoformat(row["closed_on"]),
        closed_by=row["closed_by"],
    )


def close_year(
    conn: sqlite3.Connection, year_id: str, on: dt.date, person_id: str, login: str, now: float
) -> None:
    conn.execute(
        "INSERT INTO year_closures (year_id, closed_on, closed_at, closed_by, login) "
        "VALUES (?, ?, ?, ?, ?)",
        (year_id, on.isoformat(), now, person_id, login),
    )


def reopen_year(conn: sqlite3.Connection, year_id: str) -> None:
    """The closure goes; grants given for the closed year lapse with it."""
    conn.execute("DELETE FROM year_closures WHERE year_id = ?", (year_id,))
    conn.execute(
        "UPDATE correction_grants SET revoked_at = unixepoch() "
        "WHERE year_id = ? AND revoked_at IS NULL",
        (year_id,),
    )


def log_year_action(
    conn: sqlite3.Connection, year_id: str, action: str, login: str, reason: str, now: float
) -> None:
    """Every close, early close and reopening of a year, who did it and why."""
    conn.execute(
        "INSERT INTO year_closing_log (year_id, action, login, reason, at) VALUES (?, ?, ?, ?, ?)",
        (year_id, action, login, reason, now),
    )


def year_log(conn: sqlite3.Connection, year_id: str) -> list[dict]:
    rows = conn.execute(
        "SELECT action, login, reason, at FROM year_closing_log WHERE year_id = ? ORDER BY id",
        (year_id,),
    )
    return [dict(r) for r in rows.fetchall()]


def grant_correction(
    conn: sqlite3.Connection,
    *,
    year_id: str,
    journal_id: str,
    person_id: str,
    reason: str,
    granted_by: str,
    expires_on: dt.date,
    now: float,
) -> int:
    cursor = conn.execute(
        "INSERT INTO correction_grants (year_id, journal_id, person_id, reason, granted_by, "
        "granted_at, expires_on) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (year_id, journal_id, person_id, reason, granted_by, now, expires_on.isoformat()),
    )
    return int(cursor.lastrowid)


def revoke_grant(conn: sqlite3.Connection, grant_id: int, now: float) -> bool:
    cursor = conn.execute(
        "UPDATE correction_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        (now, grant_id),
    )
    return cursor.rowcount > 0


def active_grants(
    conn: sqlite3.Connection, year_id: str, today: dt.date
) -> tuple[CorrectionGrant, ...]:
    rows = conn.execute(
        "SELECT * FROM correction_grants WHERE year_id = ? AND revoked_at IS NULL "
        "AND expires_on >= ? ORDER BY id",
        (year_id, today.isoformat()),
    ).fetchall()
    return tuple(
        CorrectionGrant(
            id=r["id"],
            journal_id=r["journal_id"],
            person_id=r["person_id"],
            reason=r["reason"],
            granted_by=r["granted_by"],
            expires_on=dt.date.fromisoformat(r["expires_on"]),
        )
        for r in rows
    )


def log_corrections(
    conn: sqlite3.Connection,
    journal_id: str,
    corrections: Iterable[tuple[int, JournalEvent]],
    now: float,
) -> None:
    """Every correction taken into a closed year's journal, with the grant that allowed it."""
    conn.executemany(
        "INSERT OR IGNORE INTO correction_log (event_id, journal_id, grant_id, author, reason, "
        "supersedes, body, logged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                e.id,
                journal_id,
                grant_id,
                e.author,
                e.reason,
                json.dumps(list(e.supersedes)),
                encode_event(e),
                now,
            )
            for grant_id, e in corrections
        ],
    )


def correction_log(conn: sqlite3.Connection, year_id: str) -> list[dict]:
    rows = conn.execute(
        "SELECT l.*, g.granted_by, g.reason AS grant_reason FROM correction_log l "
        "JOIN correction_grants g ON g.id = l.grant_id WHERE g.year_id = ? "
        "ORDER BY l.logged_at, l.event_id",
        (year_id,),
    ).fetchall()
    return [dict(r) | {"supersedes": json.loads(r["supersedes"])} for r in rows]


# ----------------------------------------------------------------- packages


def record_package(conn: sqlite3.Connection, **row: object) -> None:
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    conn.execute(
        f"INSERT OR REPLACE INTO archive_packages ({columns}) VALUES ({marks})",
        tuple(row.values()),
    )


def packages(conn: sqlite3.Connection, kind: str | None = None) -> list[dict]:
    where, params = ("WHERE kind = ?", (kind,)) if kind else ("", ())
    rows = conn.execute(
        f"SELECT p.*, y.starts FROM archive_packages p JOIN years y ON y.id = p.year_id {where} "
        "ORDER BY y.starts, p.revision",
        params,
    ).fetchall()
    return [dict(r) for r in rows]


# ----------------------------------------------------------------- retention


def retention_overrides(conn: sqlite3.Connection, school_id: str | None = None) -> dict[str, int]:
    """The server-wide changes (of releases before per-school schedules), then the school's."""
    rows = conn.execute("SELECT category, years FROM retention_policy").fetchall()
    found = {r["category"]: r["years"] for r in rows}
    if school_id is not None:
        rows = conn.execute(
            "SELECT category, years FROM school_retention_policy WHERE school_id = ?",
            (school_id,),
        )
        found |= {r["category"]: r["years"] for r in rows}
    return found


def set_retention(
    conn: sqlite3.Connection,
    category: str,
    years: int,
    login: str,
    now: float,
    school_id: str | None = None,
) -> None:
    if school_id is None:  # a person of no school: the server-wide schedule
        conn.execute(
            "INSERT INTO retention_policy (category, years, updated_at, updated_by) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(category) DO UPDATE SET years = excluded.years, "
            "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (category, years, now, login),
        )
        return
    conn.execute(
        "INSERT OR REPLACE INTO school_retention_policy (school_id, category, years, "
        "updated_at, updated_by) VALUES (?, ?, ?, ?, ?)",
        (school_id, category, years, now, login),
    )


def draft_act(
    conn: sqlite3.Connection, number: str, on: dt.date, login: str, items: list[dict]
) -> int:
    cursor = conn.execute(
        "INSERT INTO destruction_acts (number, drafted_on, drafted_by, items) VALUES (?, ?, ?, ?)",
        (number, on.isoformat(), login, json.dumps(items, ensure_ascii=False)),
    )
    return int(cursor.lastrowid)


def act(conn: sqlite3.Connection, number: str) -> dict | None:
    row = conn.execute("SELECT * FROM destruction_acts WHERE number = ?", (number,)).fetchone()
    return dict(row) | {"items": json.loads(row["items"])} if row else None


def mark_act_recorded(conn: sqlite3.Connection, act_id: int, login: str, now: float) -> None:
    conn.execute(
        "UPDATE destruction_acts SET recorded_at = ?, recorded_by = ? WHERE id = ?",
        (now, login, act_id),
    )


def log_removal(
    conn: sqlite3.Connection,
    act_id: int,
    category: str,
    item: str,
    detail: str,
    login: str,
    now: float,
) -> None:
    conn.execute(
        "INSERT INTO destruction_log (act_id, category, item, detail, removed_at, removed_by) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (act_id, category, item, detail, now, login),
    )


def removal_log(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute(
        "SELECT l.*, a.number FROM destruction_log l JOIN destruction_acts a ON a.id = l.act_id "
        "ORDER BY l.id"
    ).fetchall()
    return [dict(r) for r in rows]


def remove_journal_records(conn: sqlite3.Connection, journal_id: str) -> dict[str, int]:
    """Delete a journal's lessons, attendance, current marks, events and document, and the
    archive's copies of its printed form and history (the caches of server/archive/pdf_cache.py).

    Period and year marks (`period_marks`) stay: they are the summary sheet's records, kept
    25 years, and are never removed with the journals (000 §7.4–7.5)."""
    removed = {}
    for table in (
        "lessons",
        "attendance",
        "marks",
        "events",
        "journal_updates",
        "archive_pdf_cache",
        "archive_journal_parts",
    ):
        cursor = conn.execute(f"DELETE FROM {table} WHERE journal_id = ?", (journal_id,))
        removed[table] = cursor.rowcount
    conn.execute(
        "UPDATE journals SET state_vector = ?, event_count = 0 WHERE id = ?",
        (b"\x00", journal_id),
    )
    return removed


# ------------------------------------------------- a journal's archive files as last made


def journal_parts_row(conn: sqlite3.Connection, journal_id: str, key: str) -> sqlite3.Row | None:
    """The kept events.json (compressed), document, authors and PDF key of a journal whose
    archive files were made from exactly `key`; None when they were not."""
    return conn.execute(
        "SELECT events_json, document_gz, authors, pdf_key FROM archive_journal_parts "
        "WHERE journal_id = ? AND parts_key = ?",
        (journal_id, key),
    ).fetchone()


def put_journal_parts(
    conn: sqlite3.Connection,
    journal_id: str,
    key: str,
    events_json: bytes,
    document_gz: bytes,
    authors_json: str,
    pdf_key: str,
    now: float,
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO archive_journal_parts (journal_id, parts_key, events_json, "
        "document_gz, authors, pdf_key, made_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (journal_id, key, events_json, document_gz, authors_json, pdf_key, now),
    )
