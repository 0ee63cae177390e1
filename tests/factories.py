"""A small fixture school, and helpers to write it: tests/conftest.py writes it into a database
once per session, and each test that needs it gets a copy of that file."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from pathlib import Path

from server.auth import passwords
from server.auth.service import create_account
from server.storage import accounts
from server.storage import directory as directory_storage
from server.storage import web as web_storage
from server.storage.db import connect, create_schema, transaction
from shared.hlc import format_stamp, stamp_date
from shared.model import (
    ClassTeacher,
    Directory,
    JournalInfo,
    Membership,
    Parent,
    ParentLink,
    Period,
    PeriodKind,
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


def stamp_today() -> dt.date:
    """The day an entry made now is dated by: its clock stamp reads in Moscow time, so on a
    UTC machine after 21:00 this is already tomorrow's date."""
    return stamp_date(format_stamp(int(time.time() * 1000), 0, "test"))


PASSWORD = "password-123"
YEAR = "2026-2027"
CLASS_5, CLASS_6 = "2026-2027-5", "2026-2027-6"
MATH_5 = f"{YEAR}~{CLASS_5}~math"
RUSSIAN_5 = f"{YEAR}~{CLASS_5}~russian"
MATH_6 = f"{YEAR}~{CLASS_6}~math"

# login -> (role, person id)
ACCOUNTS: dict[str, tuple[Role, str]] = {
    "math": (Role.TEACHER, "t-math"),  # teaches math in 5 and 6
    "rus": (Role.TEACHER, "t-rus"),  # teaches russian in 5, class teacher of 6
    "deputy": (Role.DEPUTY, "t-deputy"),
    "director": (Role.DIRECTOR, "t-director"),
    "records": (Role.RECORDS_OFFICER, "t-records"),
    "admin": (Role.SYSADMIN, "t-admin"),
    "parent": (Role.PARENT, "p-1"),
    "pupil": (Role.STUDENT, "s-1"),
}


def school_rows() -> list:
    year = SchoolYear(
        id=YEAR,
        school_id="sch",
        name="2026/2027",
        starts=dt.date(2026, 9, 1),
        ends=dt.date(2027, 5, 31),
    )
    quarters = [
        (1, dt.date(2026, 9, 1), dt.date(2026, 10, 24)),
        (2, dt.date(2026, 11, 5), dt.date(2026, 12, 28)),
        (3, dt.date(2027, 1, 12), dt.date(2027, 3, 22)),
        (4, dt.date(2027, 4, 1), dt.date(2027, 5, 31)),
    ]
    staff = [
        Staff(id="t-math", last_name="Петрова", first_name="Анна", patronymic="Сергеевна"),
        Staff(id="t-rus", last_name="Соколов", first_name="Иван", patronymic="Петрович"),
        Staff(
            id="t-deputy",
            last_name="Орлова",
            first_name="Мария",
            patronymic="Ивановна",
            roles=(Role.DEPUTY, Role.TEACHER),
        ),
        Staff(id="t-director", last_name="Громов", first_name="Олег", roles=(Role.DIRECTOR,)),
        Staff(id="t-records", last_name="Лисина", first_name="Вера", roles=(Role.RECORDS_OFFICER,)),
        Staff(id="t-admin", last_name="Быстров", first_name="Пётр", roles=(Role.SYSADMIN,)),
    ]
    names = [
        ("Алексеев", "Артём"),
        ("Борисова", "Вера"),
        ("Васильев", "Глеб"),
        ("Григорьева", "Дарья"),
        ("Дмитриев", "Егор"),
        ("Ершова", "Жанна"),
    ]
    students = [
        Student(id=f"s-{i}", last_name=last, first_name=first)
        for i, (last, first) in enumerate(names, start=1)
    ]
    memberships = [
        Membership(
            student_id=f"s-{i}", class_id=CLASS_5 if i <= 4 else CLASS_6, starts=dt.date(2026, 9, 1)
        )
        for i in range(1, 7)
    ]
    return [
        School(id="sch", name="МБОУ «Тестовая СОШ»"),
        year,
        *[
            Period(
                id=f"{YEAR}-q{n}",
                year_id=YEAR,
                kind=PeriodKind.QUARTER,
                number=n,
                name=f"{n} четверть",
                starts=a,
                ends=b,
            )
            for n, a, b in quarters
        ],
        SchoolClass(id=CLASS_5, year_id=YEAR, grade=5),
        SchoolClass(id=CLASS_6, year_id=YEAR, grade=6),
        Subject(id="math", name="Математика"),
        Subject(id="russian", name="Русский язык"),
        *staff,
        *students,
        *memberships,
        Parent(id="p-1", last_name="Алексеева", first_name="Ольга"),
        ParentLink(parent_id="p-1", student_id="s-1"),
        TeachingAssignment(teacher_id="t-math", class_id=CLASS_5, subject_id="math"),
        TeachingAssignment(teacher_id="t-math", class_id=CLASS_6, subject_id="math"),
        TeachingAssignment(teacher_id="t-rus", class_id=CLASS_5, subject_id="russian"),
        ClassTeacher(teacher_id="t-rus", class_id=CLASS_6),
        ClassTeacher(teacher_id="t-math", class_id=CLASS_5),
    ]


def write_school(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        directory_storage.upsert(conn, school_rows(), school_id="sch")
    for login, (role, person) in ACCOUNTS.items():
        create_account(conn, login=login, password=PASSWORD, role=role, person_id=person)


def write_school_database(path: Path) -> Path:
    """A new database file with the fixture school and its accounts, checkpointed: the file
    alone is the whole database, ready to be copied (copy_database)."""
    conn = connect(path)
    try:
        create_schema(conn)
        write_school(conn)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return path


def copy_database(source: Path, target: Path) -> None:
    """`source` copied to `target` with SQLite's backup API (consistent even if it is open)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(str(source))
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def fixture_directory() -> Directory:
    """The fixture school as the whole Directory, with a journal per teaching assignment."""
    rows = school_rows()

    def of(kind: type) -> tuple:
        return tuple(r for r in rows if type(r) is kind)

    (school,) = of(School)
    (year,) = of(SchoolYear)
    teaching = of(TeachingAssignment)
    classes = {c.id: c for c in of(SchoolClass)}
    journals = tuple(
        JournalInfo(
            id=journal_id(classes[t.class_id].year_id, t.class_id, t.subject_id),
            year_id=classes[t.class_id].year_id,
            class_id=t.class_id,
            subject_id=t.subject_id,
        )
        for t in teaching
    )
    return Directory(
        school=school,
        year=year,
        periods=of(Period),
        classes=tuple(classes.values()),
        subjects=of(Subject),
        students=of(Student),
        memberships=of(Membership),
        staff=of(Staff),
        teaching=teaching,
        class_teachers=of(ClassTeacher),
        journals=journals,
    )


def change_password_on_server(database, login: str, new: str) -> None:
    """What the password page does: a new hash, and every device of the account cut off."""
    conn = connect(database)
    try:
        with transaction(conn):
            web_storage.set_password_hash(conn, login, passwords.hash_password(new))
            accounts.revoke_devices_of(conn, login, time.time())
    finally:
        conn.close()


def devices(database, login: str = "math") -> list[tuple[str, object]]:
    """(id, revoked_at) of the account's devices on the server."""
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT id, revoked_at FROM devices WHERE login = ?", (login,)
        ).fetchall()
