"""Failed logins counted in the database, so several server processes share the limits.

Per login name (whether or not such an account exists, so a locked account and a missing one
answer alike) and per client address. A lock that has expired starts the count afresh.
"""

from __future__ import annotations

import sqlite3


def login_locked(conn: sqlite3.Connection, login: str, now: float) -> bool:
    row = conn.execute(
        "SELECT locked_until FROM login_failures WHERE login = ?", (login,)
    ).fetchone()
    return row is not None and row["locked_until"] > now


def record_failure(
    conn: sqlite3.Connection,
    *,
    login: str,
    address: str,
    now: float,
    max_failures: int,
    lock_seconds: float,
) -> None:
    """Count one failure for the login and the address; lock the login at `max_failures`
    within `lock_seconds` (an expired lock, or failures older than that, start again)."""
    row = conn.execute(
        "SELECT failures, first_at, locked_until FROM login_failures WHERE login = ?", (login,)
    ).fetchone()
    fresh = row is None or (
        row["locked_until"] <= now
        and (row["locked_until"] > 0 or now - row["first_at"] > lock_seconds)
    )
    failures = 1 if fresh else row["failures"] + 1
    first_at = now if fresh else row["first_at"]
    locked_until = now + lock_seconds if failures >= max_failures else 0
    conn.execute(
        "INSERT INTO login_failures (login, failures, first_at, locked_until) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(login) DO UPDATE SET failures = excluded.failures, "
        "first_at = excluded.first_at, locked_until = excluded.locked_until",
        (login[:200], failures, first_at, locked_until),
    )
    conn.execute("INSERT INTO login_address_failures (address, at) VALUES (?, ?)", (address, now))


def clear_login(conn: sqlite3.Connection, login: str) -> None:
    conn.execute("DELETE FROM login_failures WHERE login = ?", (login,))


def address_failures(conn: sqlite3.Connection, address: str, since: float) -> int:
    row = conn.execute(
        "SELECT count(*) AS n FROM login_address_failures WHERE address = ? AND at > ?",
        (address, since),
    ).fetchone()
    return row["n"]


def forget_before(conn: sqlite3.Connection, moment: float) -> None:
    """Drop what no limit looks at any more (run on the cleanup schedule)."""
    conn.execute("DELETE FROM login_address_failures WHERE at < ?", (moment,))
    conn.execute(
        "DELETE FROM login_failures WHERE locked_until < ? AND first_at < ?", (moment, moment)
    )


def failures_of(conn: sqlite3.Connection, login: str) -> tuple[int, float]:
    """(failures counted, locked until) for a login: for tests and the administrator."""
    row = conn.execute(
        "SELECT failures, locked_until FROM login_failures WHERE login = ?", (login,)
    ).fetchone()
    return (row["failures"], row["locked_until"]) if row else (0, 0.0)
