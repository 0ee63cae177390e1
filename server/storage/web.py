"""The SQL behind the web pages: sessions, consents, acknowledgements, audit, closed periods."""

from __future__ import annotations

import sqlite3

import msgspec


class SessionRow(msgspec.Struct, frozen=True, kw_only=True):
    id_hash: str
    login: str
    csrf: str
    created_at: float
    last_seen: float


def add_session(conn: sqlite3.Connection, id_hash: str, login: str, csrf: str, now: float) -> None:
    conn.execute(
        "INSERT INTO web_sessions (id_hash, login, csrf, created_at, last_seen) "
        "VALUES (?, ?, ?, ?, ?)",
        (id_hash, login, csrf, now, now),
    )


def get_session(conn: sqlite3.Connection, id_hash: str) -> SessionRow | None:
    row = conn.execute("SELECT * FROM web_sessions WHERE id_hash = ?", (id_hash,)).fetchone()
    return SessionRow(**dict(row)) if row else None


def touch_session(conn: sqlite3.Connection, id_hash: str, now: float) -> None:
    conn.execute("UPDATE web_sessions SET last_seen = ? WHERE id_hash = ?", (now, id_hash))


def drop_session(conn: sqlite3.Connection, id_hash: str) -> None:
    conn.execute("DELETE FROM web_sessions WHERE id_hash = ?", (id_hash,))


def drop_sessions_of(conn: sqlite3.Connection, login: str, keep: str = "") -> None:
    conn.execute("DELETE FROM web_sessions WHERE login = ? AND id_hash != ?", (login, keep))


def set_password_hash(conn: sqlite3.Connection, login: str, password_hash: str) -> None:
    conn.execute("UPDATE accounts SET password_hash = ? WHERE login = ?", (password_hash, login))


# --------------------------------------------------------------------------- consents


class ConsentRow(msgspec.Struct, frozen=True, kw_only=True):
    """A parent's signed consent or refusal for one child (000 §5.5, 152-FZ)."""

    parent_id: str
    student_id: str
    status: str  # "given" | "refused"
    recorded_by: str
    recorded_at: float
    note: str


def consents(conn: sqlite3.Connection, parent_ids: list[str]) -> dict[tuple[str, str], ConsentRow]:
    """Consents of these parents, by (parent, child)."""
    if not parent_ids:
        return {}
    marks = ",".join("?" * len(parent_ids))
    rows = conn.execute(f"SELECT * FROM child_consents WHERE parent_id IN ({marks})", parent_ids)
    return {(r["parent_id"], r["student_id"]): ConsentRow(**dict(r)) for r in rows.fetchall()}


def set_consent(
    conn: sqlite3.Connection,
    parent_id: str,
    status: str,
    recorded_by: str,
    now: float,
    note: str,
    student_id: str | None = None,
) -> None:
    """Record a consent for one child, or (`student_id` None: a paper naming all of them) for
    each child the parent has now; a child added later needs their own."""
    children = [student_id] if student_id else children_of(conn, parent_id)
    conn.executemany(
        "INSERT INTO child_consents (parent_id, student_id, status, recorded_by, recorded_at, "
        "note) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(parent_id, student_id) DO UPDATE SET "
        "status = excluded.status, recorded_by = excluded.recorded_by, "
        "recorded_at = excluded.recorded_at, note = excluded.note",
        [(parent_id, child, status, recorded_by, now, note) for child in children],
    )


def parents_of(conn: sqlite3.Connection, student_ids: list[str]) -> list[dict]:
    if not student_ids:
        return []
    marks = ",".join("?" * len(student_ids))
    rows = conn.execute(
        "SELECT l.student_id, p.id, p.last_name, p.first_name, p.patronymic FROM parent_links l "
        f"JOIN parents p ON p.id = l.parent_id WHERE l.student_id IN ({marks}) "
        "ORDER BY p.last_name, p.first_name",
        student_ids,
    )
    return [dict(r) for r in rows.fetchall()]


def children_of(conn: sqlite3.Connection, parent_id: str) -> list[str]:
    rows = conn.execute("SELECT student_id FROM parent_links WHERE parent_id = ?", (parent_id,))
    return [r["student_id"] for r in rows.fetchall()]


# --------------------------------------------------------------------------- acknowledgements


def acknowledge(
    conn: sqlite3.Connection, parent_id: str, student_id: str, week: str, now: float
) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO acknowledgements (parent_id, student_id, week, at) "
        "VALUES (?, ?, ?, ?)",
        (parent_id, student_id, week, now),
    )


def period_key(period_id: str) -> str:
    """The acknowledgement of a period's marks (004 §2.2.2), kept beside the weekly ones: the
    `week` column holds «period:<id>» instead of a Monday's date."""
    return f"period:{period_id}"


def acknowledgements(
    conn: sqlite3.Connection, student_ids: list[str], week: str
) -> dict[tuple[str, str], float]:
    """(parent id, student id) -> when that parent confirmed reading that week."""
    if not student_ids:
        return {}
    marks = ",".join("?" * len(student_ids))
    rows = conn.execute(
        "SELECT parent_id, student_id, at FROM acknowledgements "
        f"WHERE week = ? AND student_id IN ({marks})",
        [week, *student_ids],
    )
    return {(r["parent_id"], r["student_id"]): r["at"] for r in rows.fetchall()}


# --------------------------------------------------------------------------- audit


def audit(
    conn: sqlite3.Connection,
    *,
    now: float,
    login: str,
    role: str,
    action: str,
    student_id: str | None = None,
    class_id: str | None = None,
    detail: str = "",
    outcome: str = "allowed",
) -> None:
    conn.execute(
        "INSERT INTO audit_log (at, login, role, action, student_id, class_id, detail, outcome) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (now, login, role, action, student_id, class_id, detail, outcome),
    )


# the people of one school: its staff, its pupils (any year) and their parents
_SCHOOL_PUPILS = (
    "SELECT m.student_id FROM memberships m JOIN classes c ON c.id = m.class_id "
    "JOIN years y ON y.id = c.year_id WHERE y.school_id = :school"
)
SCHOOL_PEOPLE = (
    "SELECT id FROM staff WHERE school_id = :school "
    f"UNION {_SCHOOL_PUPILS} "
    f"UNION SELECT parent_id FROM parent_links WHERE student_id IN ({_SCHOOL_PUPILS})"
)


def school_logins(conn: sqlite3.Connection, school_id: str) -> set[str]:
    """Logins of the accounts of one school's people."""
    rows = conn.execute(
        f"SELECT login FROM accounts WHERE person_id IN ({SCHOOL_PEOPLE})", {"school": school_id}
    )
    return {r["login"] for r in rows}


def audit_entries(
    conn: sqlite3.Connection, limit: int = 500, *, school_id: str | None = None
) -> list[dict]:
    """The newest entries; with `school_id`, only those made by that school's people."""
    if school_id is None:
        rows = conn.execute("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
    else:
        rows = conn.execute(
            "SELECT a.* FROM audit_log a JOIN accounts c ON c.login = a.login "
            f"WHERE c.person_id IN ({SCHOOL_PEOPLE}) ORDER BY a.id DESC LIMIT :limit",
            {"school": school_id, "limit": limit},
        )
    return [dict(r) for r in rows.fetchall()]


# --------------------------------------------------------------------------- closed periods


def close_period(
    conn: sqlite3.Connection, class_id: str, period_id: str, closed_by: str, now: float
) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO period_closures (class_id, period_id, closed_by, closed_at) "
        "VALUES (?, ?, ?, ?)",
        (class_id, period_id, closed_by, now),
    )


def closures(conn: sqlite3.Connection, class_id: str | None = None) -> list[dict]:
    sql = "SELECT * FROM period_closures"
    rows = conn.execute(sql + " WHERE class_id = ?", (class_id,)) if class_id else conn.execute(sql)
    return [dict(r) for r in rows.fetchall()]
