"""Directory rows: saving the school's structure and reading it back as structs."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Sequence

import msgspec

from server.storage import archive as archive_storage
from shared.model import (
    ClassTeacher,
    Directory,
    JournalInfo,
    Membership,
    Parent,
    ParentLink,
    Period,
    Role,
    School,
    SchoolClass,
    SchoolYear,
    Staff,
    Student,
    Subject,
    TeachingAssignment,
    journal_id,
)

_TABLES: dict[type, tuple[str, tuple[str, ...]]] = {
    School: ("schools", ("id",)),
    SchoolYear: ("years", ("id",)),
    Period: ("periods", ("id",)),
    SchoolClass: ("classes", ("id",)),
    Subject: ("subjects", ("id",)),
    Student: ("students", ("id",)),
    Membership: ("memberships", ("student_id", "class_id", "starts")),
    Staff: ("staff", ("id",)),
    Parent: ("parents", ("id",)),
    ParentLink: ("parent_links", ("parent_id", "student_id")),
    TeachingAssignment: ("teaching", ("teacher_id", "class_id", "subject_id")),
    ClassTeacher: ("class_teachers", ("teacher_id", "class_id")),
}


def _row(item: msgspec.Struct) -> dict[str, object]:
    row = msgspec.to_builtins(item)
    if isinstance(item, Staff):
        row["roles"] = json.dumps(row["roles"])
    return row


def upsert(
    conn: sqlite3.Connection, items: Iterable[msgspec.Struct], *, school_id: str = ""
) -> int:
    """Insert or replace directory structs; returns how many were written."""
    count = 0
    for item in items:
        table, keys = _TABLES[type(item)]
        row = _row(item)
        if isinstance(item, Staff):
            row["school_id"] = school_id
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        updates = ", ".join(f"{c} = excluded.{c}" for c in row if c not in keys) or None
        conflict = (
            f"ON CONFLICT({', '.join(keys)}) DO UPDATE SET {updates}"
            if updates
            else "ON CONFLICT DO NOTHING"
        )
        conn.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}) {conflict}", tuple(row.values())
        )
        count += 1
    return count


def _all(conn: sqlite3.Connection, cls: type, where: str = "", params: Sequence = ()) -> list:
    table, _ = _TABLES[cls]
    rows = conn.execute(f"SELECT * FROM {table} {where}", params).fetchall()
    result = []
    for row in rows:
        data = dict(row)
        if cls is Staff:
            data.pop("school_id", None)
            data["roles"] = json.loads(data["roles"])
        result.append(msgspec.convert(data, cls, strict=False))
    return result


def load_full(
    conn: sqlite3.Connection, year_id: str | None = None, today: dt.date | None = None
) -> Directory:
    """The whole directory of the (only or given) school year, with its closure and the
    correction grants in force `today` (default: the server's date)."""
    years = (
        _all(conn, SchoolYear, "WHERE id = ?", (year_id,))
        if year_id
        else _all(conn, SchoolYear, "ORDER BY starts DESC")
    )
    if not years:
        raise LookupError("в базе нет учебного года: загрузите справочник школы")
    year: SchoolYear = years[0]
    school = _all(conn, School, "WHERE id = ?", (year.school_id,))[0]
    classes = _all(conn, SchoolClass, "WHERE year_id = ? ORDER BY grade, letter", (year.id,))
    class_ids = {c.id for c in classes}
    teaching = [t for t in _all(conn, TeachingAssignment) if t.class_id in class_ids]
    journals = sorted(
        {
            JournalInfo(
                id=journal_id(year.id, t.class_id, t.subject_id),
                year_id=year.id,
                class_id=t.class_id,
                subject_id=t.subject_id,
            )
            for t in teaching
        },
        key=lambda j: j.id,
    )
    return Directory(
        school=school,
        year=year,
        periods=tuple(_all(conn, Period, "WHERE year_id = ? ORDER BY starts, kind", (year.id,))),
        classes=tuple(classes),
        subjects=tuple(_all(conn, Subject, "ORDER BY name")),
        students=tuple(_all(conn, Student, "ORDER BY last_name, first_name")),
        memberships=tuple(m for m in _all(conn, Membership) if m.class_id in class_ids),
        staff=tuple(_all(conn, Staff, "ORDER BY last_name, first_name")),
        teaching=tuple(teaching),
        class_teachers=tuple(c for c in _all(conn, ClassTeacher) if c.class_id in class_ids),
        journals=tuple(journals),
        closure=archive_storage.closure(conn, year.id),
        corrections=archive_storage.active_grants(conn, year.id, today or dt.date.today()),
    )


def parent_links(conn: sqlite3.Connection) -> list[ParentLink]:
    return _all(conn, ParentLink)


def parents(conn: sqlite3.Connection) -> list[Parent]:
    return _all(conn, Parent)


def staff_roles(conn: sqlite3.Connection, staff_id: str) -> tuple[Role, ...]:
    row = conn.execute("SELECT roles FROM staff WHERE id = ?", (staff_id,)).fetchone()
    return tuple(Role(r) for r in json.loads(row["roles"])) if row else ()
