"""The SQL behind accounts handed out on paper slips: who has an account, and whose password
must be changed at the next login."""

from __future__ import annotations

import sqlite3


def logins_of(conn: sqlite3.Connection, person_ids: list[str]) -> dict[str, str]:
    """person id -> login of their family account (pupil or parent)."""
    if not person_ids:
        return {}
    marks = ",".join("?" * len(person_ids))
    rows = conn.execute(
        f"SELECT person_id, login FROM accounts WHERE person_id IN ({marks}) "
        "AND role IN ('student', 'parent') ORDER BY created_at",
        person_ids,
    )
    return {r["person_id"]: r["login"] for r in rows}


def taken(conn: sqlite3.Connection, login: str) -> bool:
    return conn.execute("SELECT 1 FROM accounts WHERE login = ?", (login,)).fetchone() is not None


def require_change(conn: sqlite3.Connection, login: str, issued_by: str, now: float) -> None:
    conn.execute(
        "INSERT INTO password_change_required VALUES (?, ?, ?) ON CONFLICT(login) DO UPDATE "
        "SET since = excluded.since, issued_by = excluded.issued_by",
        (login, now, issued_by),
    )


def change_required(conn: sqlite3.Connection, login: str) -> bool:
    found = conn.execute("SELECT 1 FROM password_change_required WHERE login = ?", (login,))
    return found.fetchone() is not None


def pending(conn: sqlite3.Connection, logins: list[str]) -> set[str]:
    if not logins:
        return set()
    marks = ",".join("?" * len(logins))
    rows = conn.execute(
        f"SELECT login FROM password_change_required WHERE login IN ({marks})", logins
    )
    return {r[0] for r in rows}


def changed(conn: sqlite3.Connection, login: str) -> None:
    conn.execute("DELETE FROM password_change_required WHERE login = ?", (login,))
