"""Directory rows: saving the school's structure and reading it back as structs."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Sequence

import msgspec

from server.naming import slug
from server.storage import archive as archive_storage
from shared.model import (
    STAFF_ROLES,
    ClassTeacher,
    CombinedClasses,
    Directory,
    GroupMembership,
    JournalInfo,
    Membership,
    Parent,
    ParentLink,
    Period,
    Role,
    Scale,
    ScaleSetting,
    School,
    SchoolClass,
    SchoolYear,
    Staff,
    Student,
    StudyGroup,
    Subject,
    TeachingAssignment,
    WorkWeight,
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


def schools_with_years(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT school_id FROM years ORDER BY school_id")]


def load_full(
    conn: sqlite3.Connection,
    year_id: str | None = None,
    today: dt.date | None = None,
    *,
    school_id: str | None = None,
) -> Directory:
    """The whole directory of one school year, with its closure and the correction grants in
    force `today` (default: the server's date).

    The year is `year_id`, else the newest year of `school_id`. Without either, the database must
    hold a single school: with several, guessing one would show a person another school's
    pupils, so it is refused. Students, staff, memberships and teaching are those of the year's
    school only; subjects are a catalogue shared by every school.
    """
    if year_id:
        years = _all(conn, SchoolYear, "WHERE id = ?", (year_id,))
        if years and school_id is not None and years[0].school_id != school_id:
            years = []
    elif school_id is not None:
        years = _all(conn, SchoolYear, "WHERE school_id = ? ORDER BY starts DESC", (school_id,))
    else:
        if len(schools_with_years(conn)) > 1:
            raise LookupError("в базе несколько школ: укажите, какой школы справочник")
        years = _all(conn, SchoolYear, "ORDER BY starts DESC")
    if not years:
        raise LookupError("в базе нет учебного года: загрузите справочник школы")
    year: SchoolYear = years[0]
    school = _all(conn, School, "WHERE id = ?", (year.school_id,))[0]
    classes = _all(conn, SchoolClass, "WHERE year_id = ? ORDER BY grade, letter", (year.id,))
    class_ids = {c.id for c in classes}
    teaching = [t for t in _all(conn, TeachingAssignment) if t.class_id in class_ids]
    groups, group_members = _groups(conn, year.id)
    journals = sorted(_journals(conn, year.id, teaching, groups), key=lambda j: j.id)
    return Directory(
        school=school,
        year=year,
        periods=tuple(_all(conn, Period, "WHERE year_id = ? ORDER BY starts, kind", (year.id,))),
        classes=tuple(classes),
        subjects=tuple(_all(conn, Subject, "ORDER BY name")),
        students=tuple(
            _all(
                conn,
                Student,
                "WHERE id IN (SELECT m.student_id FROM memberships m JOIN classes c "
                "ON c.id = m.class_id JOIN years y ON y.id = c.year_id WHERE y.school_id = ?) "
                "ORDER BY last_name, first_name",
                (school.id,),
            )
        ),
        memberships=tuple(m for m in _all(conn, Membership) if m.class_id in class_ids),
        staff=tuple(
            _all(conn, Staff, "WHERE school_id = ? ORDER BY last_name, first_name", (school.id,))
        ),
        teaching=tuple(teaching),
        class_teachers=tuple(c for c in _all(conn, ClassTeacher) if c.class_id in class_ids),
        journals=tuple(journals),
        closure=archive_storage.closure(conn, year.id),
        corrections=archive_storage.active_grants(conn, year.id, today or dt.date.today()),
        scales=tuple(scales(conn, school.id)),
        weights=tuple(
            WorkWeight(work_kind=r["work_kind"], weight=r["weight"])
            for r in conn.execute(
                "SELECT work_kind, weight FROM work_weights WHERE school_id = ? ORDER BY 1",
                (school.id,),
            )
        ),
        groups=tuple(groups),
        group_members=tuple(group_members),
        combined=tuple(_combined(conn, year.id)),
    )


def _combined(conn: sqlite3.Connection, year_id: str) -> list[CombinedClasses]:
    sets: dict[tuple[str, str], list[str]] = {}
    for r in conn.execute(
        "SELECT subject_id, together, class_id FROM combined_classes WHERE class_id IN "
        "(SELECT id FROM classes WHERE year_id = ?) ORDER BY 1, 2, 3",
        (year_id,),
    ):
        sets.setdefault((r[0], r[1]), []).append(r[2])
    return [CombinedClasses(subject_id=s, class_ids=tuple(c)) for (s, _), c in sets.items()]


def group_key(name: str) -> str:
    """The ASCII key of a group in its journal's id: «1» → «1», «девочки» → «devochki»."""
    return slug(name)


def _groups(
    conn: sqlite3.Connection, year_id: str
) -> tuple[list[StudyGroup], list[GroupMembership]]:
    """The year's groups: named by the teaching load (with their teachers) or by the pupils'
    list (no teacher yet), and who is in each."""
    of_year = "SELECT id FROM classes WHERE year_id = ?"
    # a group is its key: «Девочки» in the load and «девочки» in the pupils' list are one group
    teachers: dict[tuple[str, str, str], list[str]] = {}
    names: dict[tuple[str, str, str], str] = {}
    for r in conn.execute(
        "SELECT class_id, subject_id, group_name, teacher_id FROM teaching_load "
        f"WHERE group_name != '' AND class_id IN ({of_year}) ORDER BY 1, 2, 3, 4",
        (year_id,),
    ):
        key = (r[0], r[1], group_key(r[2]))
        names.setdefault(key, r[2])
        if r[3] not in teachers.setdefault(key, []):
            teachers[key].append(r[3])
    members = [
        GroupMembership(
            student_id=r["student_id"],
            class_id=r["class_id"],
            subject_id=r["subject_id"],
            group_key=group_key(r["group_name"]),
            starts=dt.date.fromisoformat(r["starts"]),
            ends=dt.date.fromisoformat(r["ends"]) if r["ends"] else None,
        )
        for r in conn.execute(
            f"SELECT * FROM group_members WHERE class_id IN ({of_year}) "
            "ORDER BY class_id, subject_id, group_name, student_id, starts",
            (year_id,),
        )
    ]
    for r in conn.execute(
        f"SELECT DISTINCT class_id, subject_id, group_name FROM group_members "
        f"WHERE class_id IN ({of_year})",
        (year_id,),
    ):
        key = (r[0], r[1], group_key(r[2]))
        names.setdefault(key, r[2])
        teachers.setdefault(key, [])
    groups = [
        StudyGroup(class_id=c, subject_id=s, key=k, name=names[(c, s, k)], teachers=tuple(who))
        for (c, s, k), who in sorted(teachers.items())
    ]
    return groups, members


def _journals(
    conn: sqlite3.Connection,
    year_id: str,
    teaching: list[TeachingAssignment],
    groups: list[StudyGroup],
) -> set[JournalInfo]:
    """A journal per class and subject taught to the whole class, and per group with a teacher.
    A subject split into groups has no whole-class journal, unless one was already kept (the
    class was split mid-year): its entries stay readable where they were made."""
    split = {(g.class_id, g.subject_id) for g in groups if g.teachers}
    kept = {
        r[0]
        for r in conn.execute(
            "SELECT id FROM journals WHERE year_id = ? AND event_count > 0", (year_id,)
        )
    }
    journals = {
        JournalInfo(
            id=journal_id(year_id, g.class_id, g.subject_id, g.key),
            year_id=year_id,
            class_id=g.class_id,
            subject_id=g.subject_id,
            group=g.key,
        )
        for g in groups
        if g.teachers
    }
    for t in teaching:
        whole = journal_id(year_id, t.class_id, t.subject_id)
        if (t.class_id, t.subject_id) not in split or whole in kept:
            journals.add(
                JournalInfo(id=whole, year_id=year_id, class_id=t.class_id, subject_id=t.subject_id)
            )
    return journals


def scales(conn: sqlite3.Connection, school_id: str) -> list[ScaleSetting]:
    """The scales the deputy set for the school (issue 16); absent: shared.scales' defaults."""
    return [
        ScaleSetting(
            scale=Scale(r["scale"]),
            grade=r["grade"] or None,
            subject_id=r["subject_id"] or None,
            modifiers=bool(r["modifiers"]),
        )
        for r in conn.execute(
            "SELECT grade, subject_id, scale, modifiers FROM scales WHERE school_id = ? "
            "ORDER BY grade, subject_id",
            (school_id,),
        )
    ]


def set_scale(conn: sqlite3.Connection, school_id: str, setting: ScaleSetting) -> None:
    """Set (or replace) the scale of a grade, a subject, or a subject in one grade."""
    conn.execute(
        "INSERT INTO scales VALUES (?, ?, ?, ?, ?) ON CONFLICT(school_id, grade, subject_id) "
        "DO UPDATE SET scale = excluded.scale, modifiers = excluded.modifiers",
        (
            school_id,
            setting.grade or 0,
            setting.subject_id or "",
            setting.scale.value,
            int(setting.modifiers),
        ),
    )


def set_weight(conn: sqlite3.Connection, school_id: str, row: WorkWeight) -> None:
    conn.execute(
        "INSERT INTO work_weights VALUES (?, ?, ?) ON CONFLICT(school_id, work_kind) "
        "DO UPDATE SET weight = excluded.weight",
        (school_id, row.work_kind, row.weight),
    )


def parent_links(conn: sqlite3.Connection) -> list[ParentLink]:
    return _all(conn, ParentLink)


def parents(conn: sqlite3.Connection) -> list[Parent]:
    return _all(conn, Parent)


def staff_roles(conn: sqlite3.Connection, staff_id: str) -> tuple[Role, ...]:
    row = conn.execute("SELECT roles FROM staff WHERE id = ?", (staff_id,)).fetchone()
    return tuple(Role(r) for r in json.loads(row["roles"])) if row else ()


def district_schools(conn: sqlite3.Connection, district: str) -> list[str]:
    """Schools of a district: kept here, or known from their signed figure files."""
    rows = conn.execute(
        "SELECT id FROM schools WHERE district = ? UNION "
        "SELECT school_id FROM district_imports WHERE district = ? ORDER BY 1",
        (district, district),
    )
    return [r[0] for r in rows]


def school_of(conn: sqlite3.Connection, role: Role, person_id: str) -> str | None:
    """The school a person belongs to: staff by their row; a pupil by their newest class; a
    parent by their children's newest class. None for the district office and for anyone the
    directory does not place in a school."""
    if role in STAFF_ROLES:
        row = conn.execute(
            "SELECT s.school_id FROM staff s JOIN schools k ON k.id = s.school_id WHERE s.id = ?",
            (person_id,),
        ).fetchone()
    elif role in (Role.STUDENT, Role.PARENT):
        pupils = (
            "SELECT student_id FROM parent_links WHERE parent_id = ?"
            if role is Role.PARENT
            else "SELECT ?"
        )
        row = conn.execute(
            "SELECT y.school_id FROM memberships m JOIN classes c ON c.id = m.class_id "
            f"JOIN years y ON y.id = c.year_id WHERE m.student_id IN ({pupils}) "
            "ORDER BY y.starts DESC, m.starts DESC, y.school_id LIMIT 1",
            (person_id,),
        ).fetchone()
    else:
        row = None
    return row[0] if row else None


def _owners(conn: sqlite3.Connection, sql: str, ids: set[str]) -> list[tuple[str, str]]:
    """(id, school) pairs the query finds; `sql` selects (id, school_id) for `IN ({})`."""
    found: set[tuple[str, str]] = set()
    chunk = sorted(ids)
    for start in range(0, len(chunk), 500):
        part = chunk[start : start + 500]
        found |= {(r[0], r[1]) for r in conn.execute(sql.format(",".join("?" * len(part))), part)}
    return sorted(found)


def foreign_rows(
    conn: sqlite3.Connection, school_id: str, items: Iterable[msgspec.Struct]
) -> list[str]:
    """Rows about to be written for `school_id` whose ids already belong to another school,
    described in Russian. One database holds many schools; an import must never move or
    overwrite another school's year, class, pupil or staff member."""
    items = list(items)
    years = {i.id for i in items if isinstance(i, SchoolYear)}
    years |= {i.year_id for i in items if isinstance(i, (Period, SchoolClass))}
    classes = {i.id for i in items if isinstance(i, SchoolClass)}
    classes |= {i.class_id for i in items if isinstance(i, (Membership, TeachingAssignment))}
    classes |= {i.class_id for i in items if isinstance(i, ClassTeacher)}
    students = {i.id for i in items if isinstance(i, Student)}
    students |= {i.student_id for i in items if isinstance(i, Membership)}
    staff = {i.id for i in items if isinstance(i, Staff)}
    problems = []
    checks = (
        ("учебный год", years, "SELECT id, school_id FROM years WHERE id IN ({})"),
        (
            "класс",
            classes,
            "SELECT c.id, y.school_id FROM classes c JOIN years y ON y.id = c.year_id "
            "WHERE c.id IN ({})",
        ),
        (  # a pupil whose every place in another school has ended (moved here) is free
            "ученик",
            students,
            "SELECT m.student_id, y.school_id FROM memberships m JOIN classes c "
            "ON c.id = m.class_id JOIN years y ON y.id = c.year_id "
            "WHERE m.student_id IN ({}) AND m.ends IS NULL",
        ),
        ("сотрудник", staff, "SELECT id, school_id FROM staff WHERE id IN ({})"),
    )
    for label, ids, sql in checks:
        for item_id, owner in _owners(conn, sql, ids):
            if owner != school_id:
                problems.append(f"{label} «{item_id}» уже есть в другой школе ({owner})")
    return problems
