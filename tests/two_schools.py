"""Three schools in one database, for the tests that one school never sees another's rows.

School A is the report fixture school (tests/reports_school.py, its autumn hand-counted there),
here placed in the district «Тестовый район». School B is a second, smaller school of the same
district; school C belongs to another district. Every id of B and C differs from A's.

School B, class 5 (b-s-1 Белов, b-s-2 Белкина, b-s-3 Белый), Математика (b-t-math):
  BL1 07.09: b-s-1 5, b-s-2 2; b-s-3 н
  BL2 14.09: b-s-1 4, b-s-2 3, b-s-3 3
School C, class 7 (c-s-1 Царёв), Математика (c-t-math): CL1 07.09: c-s-1 4
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from server.auth.service import create_account
from server.config import ServerConfig
from server.seeding import load_directory, load_journals
from server.storage import directory as directory_storage
from server.storage.db import connect, transaction
from shared.model import (
    ClassTeacher,
    Directory,
    JournalEvent,
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
from tests.factories import PASSWORD
from tests.reports_school import D, _Author, build_database
from tests.server.school_kit import copy_database

DISTRICT = "Тестовый район"
OTHER_DISTRICT = "Другой район"
YEAR_B, YEAR_C = "b-2026-2027", "c-2026-2027"
CLASS_B5, CLASS_C7 = f"{YEAR_B}-5", f"{YEAR_C}-7"
MATH_B5 = journal_id(YEAR_B, CLASS_B5, "math")
MATH_C7 = journal_id(YEAR_C, CLASS_C7, "math")

# login -> (role, person id); the accounts of school A are tests/factories.py ACCOUNTS
ACCOUNTS_B: dict[str, tuple[Role, str]] = {
    "b-math": (Role.TEACHER, "b-t-math"),  # teaches math in B5 and is its class teacher
    "b-deputy": (Role.DEPUTY, "b-t-deputy"),
    "b-admin": (Role.SYSADMIN, "b-t-admin"),
    "b-parent": (Role.PARENT, "b-p-1"),
    "b-pupil": (Role.STUDENT, "b-s-1"),
    "c-math": (Role.TEACHER, "c-t-math"),
    "district": (Role.DISTRICT, DISTRICT),
    "district-2": (Role.DISTRICT, OTHER_DISTRICT),
}


def _school(
    prefix: str, name: str, district: str, grade: int, pupils: list[tuple[str, str]]
) -> tuple[Directory, tuple[Parent, ...], tuple[ParentLink, ...]]:
    year_id = f"{prefix}-2026-2027"
    class_id = f"{year_id}-{grade}"
    school = School(id=f"sch-{prefix}", name=name, district=district)
    year = SchoolYear(
        id=year_id, school_id=school.id, name="2026/2027", starts=D(2026, 9, 1), ends=D(2027, 5, 31)
    )
    period = Period(
        id=f"{year_id}-q1",
        year_id=year_id,
        kind=PeriodKind.QUARTER,
        number=1,
        name="1 четверть",
        starts=D(2026, 9, 1),
        ends=D(2026, 10, 24),
    )
    students = tuple(
        Student(id=f"{prefix}-s-{i}", last_name=last, first_name=first)
        for i, (last, first) in enumerate(pupils, start=1)
    )
    teacher = f"{prefix}-t-math"
    staff = (
        Staff(id=teacher, last_name="Учителева", first_name="Нина"),
        Staff(
            id=f"{prefix}-t-deputy", last_name="Завучева", first_name="Ольга", roles=(Role.DEPUTY,)
        ),
        Staff(
            id=f"{prefix}-t-admin", last_name="Админов", first_name="Пётр", roles=(Role.SYSADMIN,)
        ),
    )
    directory = Directory(
        school=school,
        year=year,
        periods=(period,),
        classes=(SchoolClass(id=class_id, year_id=year_id, grade=grade),),
        subjects=(Subject(id="math", name="Математика"),),
        students=students,
        memberships=tuple(
            Membership(student_id=s.id, class_id=class_id, starts=D(2026, 9, 1)) for s in students
        ),
        staff=staff,
        teaching=(TeachingAssignment(teacher_id=teacher, class_id=class_id, subject_id="math"),),
        class_teachers=(ClassTeacher(teacher_id=teacher, class_id=class_id),),
    )
    parent = Parent(id=f"{prefix}-p-1", last_name=pupils[0][0] + "а", first_name="Мать")
    return directory, (parent,), (ParentLink(parent_id=parent.id, student_id=students[0].id),)


def school_b() -> tuple[Directory, tuple[Parent, ...], tuple[ParentLink, ...]]:
    pupils = [("Белов", "Борис"), ("Белкина", "Бэла"), ("Белый", "Богдан")]
    return _school("b", "МБОУ «Вторая СОШ»", DISTRICT, 5, pupils)


def school_c() -> tuple[Directory, tuple[Parent, ...], tuple[ParentLink, ...]]:
    return _school("c", "МБОУ «Соседняя СОШ»", OTHER_DISTRICT, 7, [("Царёв", "Цезарь")])


def events_b() -> dict[str, list[JournalEvent]]:
    math = _Author("b-t-math", "d-b-math-fixture")
    events: list[JournalEvent] = []
    math.at(D(2026, 9, 7))
    events += [
        math.lesson("BL1", D(2026, 9, 7), "Натуральные числа"),
        math.mark("BL1", "b-s-1", 5),
        math.mark("BL1", "b-s-2", 2),
        math.absent("BL1", "b-s-3"),
    ]
    math.at(D(2026, 9, 14))
    events += [
        math.lesson("BL2", D(2026, 9, 14), "Сложение"),
        math.mark("BL2", "b-s-1", 4),
        math.mark("BL2", "b-s-2", 3),
        math.mark("BL2", "b-s-3", 3),
    ]
    return {MATH_B5: events}


def events_c() -> dict[str, list[JournalEvent]]:
    math = _Author("c-t-math", "d-c-math-fixture")
    math.at(D(2026, 9, 7))
    return {MATH_C7: [math.lesson("CL1", D(2026, 9, 7), "Степени"), math.mark("CL1", "c-s-1", 4)]}


def add_schools(conn: sqlite3.Connection, config: ServerConfig) -> None:
    """Put A in its district, then add B and C beside it with their accounts and autumn."""
    school_a = directory_storage.load_full(conn).school
    with transaction(conn):
        directory_storage.upsert(
            conn, [School(id=school_a.id, name=school_a.name, district=DISTRICT)]
        )
    for build, events in ((school_b, events_b), (school_c, events_c)):
        directory, parents, links = build()
        load_directory(conn, directory, parents, links)
        full = directory_storage.load_full(conn, school_id=directory.school.id)
        assert load_journals(conn, config, full, events()) == 0
    for login, (role, person) in ACCOUNTS_B.items():
        create_account(conn, login=login, password=PASSWORD, role=role, person_id=person)


_built: dict[Path, Path] = {}


def two_schools_copy(template_folder: Path, target: Path) -> ServerConfig:
    """A copy of the (once per session) built three-school database."""
    if template_folder not in _built:
        path = template_folder / "two-schools.sqlite"
        config = build_database(path)
        conn = connect(path)
        try:
            add_schools(conn, config)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        _built[template_folder] = path
    copy_database(_built[template_folder], target)
    return ServerConfig(database=target)
