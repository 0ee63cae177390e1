"""The next school year: opened from the current one with its periods, pupils promoted class by
class («переведён», «переведён условно», «оставлен на повторное обучение»; graduates of 9 and
11 leave with the date), the teaching load and class teachers carried forward for editing.
The year before stays as it was: its classes, memberships, journals and closure are untouched.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from enum import StrEnum

import msgspec

from server.auth.principal import Principal
from server.errors import AccessDenied, BadRequest
from server.importer import school_year_calendar, slug
from server.storage import directory as directory_storage
from server.storage import lists as storage
from server.storage.db import transaction
from server.web import people
from shared.model import (
    ClassTeacher,
    Directory,
    Membership,
    Role,
    SchoolClass,
    SchoolYear,
    TeachingAssignment,
)


class Outcome(StrEnum):
    PROMOTED = "promoted"  # переведён
    CONDITIONAL = "conditional"  # переведён условно (academic debt)
    REPEATS = "repeats"  # оставлен на повторное обучение
    GRADUATED = "graduated"  # выпущен (9 and 11)


TITLES = {
    Outcome.PROMOTED: "переведён",
    Outcome.CONDITIONAL: "переведён условно",
    Outcome.REPEATS: "оставлен на повторное обучение",
    Outcome.GRADUATED: "выпущен",
}


class Opened(msgspec.Struct, frozen=True, kw_only=True):
    year: SchoolYear
    classes: int
    pupils: dict[str, int]  # outcome -> how many
    teaching: int
    class_teachers: int


def default_outcome(grade: int) -> Outcome:
    return Outcome.GRADUATED if grade in (9, 11) else Outcome.PROMOTED


def next_year_id(current: SchoolYear) -> tuple[str, int]:
    first = current.starts.year + 1
    old = f"{first - 1}-{first}"
    if current.id.endswith(old):
        return current.id[: -len(old)] + f"{first}-{first + 1}", first
    return f"{current.school_id}-{first}-{first + 1}", first


def _class_in(year_id: str, grade: int, letter: str) -> SchoolClass:
    return SchoolClass(
        id=f"{year_id}-{grade}{slug(letter) if letter else ''}",
        year_id=year_id,
        grade=grade,
        letter=letter,
    )


def plan_outcomes(directory: Directory) -> list[tuple[SchoolClass, str, str, Outcome]]:
    """Every pupil in a class at the end of the year with the default outcome:
    (class, pupil id, name, outcome)."""
    out = []
    last_day = directory.year.ends
    for school_class in directory.classes:
        for pupil in directory.class_roster(school_class.id, last_day):
            out.append(
                (school_class, pupil.id, pupil.full_name, default_outcome(school_class.grade))
            )
    return out


def open_next_year(
    conn: sqlite3.Connection,
    principal: Principal,
    outcomes: dict[str, Outcome] | None = None,
    today: dt.date | None = None,
) -> Opened:
    """Open the year after the school's newest one and move its pupils, load and class
    teachers into it; `outcomes` overrides the default per pupil id. Refused if the next year
    already exists."""
    if not principal.has(Role.DIRECTOR, Role.DEPUTY, Role.SYSADMIN):
        raise AccessDenied("Новый учебный год открывает администрация школы.")
    directory = people.directory_of(conn, principal)
    current = directory.year
    if (today or dt.date.today()) < current.starts:
        raise BadRequest(
            f"Учебный год {current.name} уже открыт и начнётся {current.starts:%d.%m.%Y}: "
            "следующий за ним открывают, когда он начнётся."
        )
    year_id, first = next_year_id(current)
    if conn.execute("SELECT 1 FROM years WHERE id = ?", (year_id,)).fetchone():
        raise BadRequest(f"Учебный год {first}/{first + 1} уже открыт.")
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,60}", year_id):
        raise BadRequest("Код нового учебного года не получается составить из кода текущего.")
    year, periods = school_year_calendar(current.school_id, year_id, first)
    chosen = dict(outcomes or {})
    plan = plan_outcomes(directory)
    unknown = set(chosen) - {pid for _, pid, _, _ in plan}
    if unknown:
        raise BadRequest("Решение указано для ученика, которого нет в классах этого года.")
    rows: list[msgspec.Struct] = [year, *periods]
    classes: dict[str, SchoolClass] = {}  # new class id -> class
    follows: dict[str, str] = {}  # old class id -> the class it becomes
    for school_class in directory.classes:
        if school_class.grade < 11:
            moved = _class_in(year_id, school_class.grade + 1, school_class.letter)
            classes[moved.id] = moved
            follows[school_class.id] = moved.id
    counts = dict.fromkeys((o.value for o in Outcome), 0)
    places, graduates, promoted = [], [], []
    for school_class, pupil_id, _, default in plan:
        outcome = chosen.get(pupil_id, default)
        if (
            outcome is not Outcome.GRADUATED
            and school_class.grade == 11
            and outcome is not Outcome.REPEATS
        ):
            raise BadRequest(
                "Ученика 11 класса можно только выпустить или оставить на повторное обучение."
            )
        counts[outcome.value] += 1
        if outcome is Outcome.GRADUATED:
            graduates.append((pupil_id, school_class.id))
            continue
        if outcome is Outcome.REPEATS:
            target = _class_in(year_id, school_class.grade, school_class.letter)
            classes.setdefault(target.id, target)
        else:
            target = classes[follows[school_class.id]]
            promoted.append((pupil_id, school_class.id, target.id))
        places.append(Membership(student_id=pupil_id, class_id=target.id, starts=year.starts))
    teaching = [
        TeachingAssignment(
            teacher_id=t.teacher_id, class_id=follows[t.class_id], subject_id=t.subject_id
        )
        for t in directory.teaching
        if t.class_id in follows
    ]
    class_teachers = [
        ClassTeacher(teacher_id=c.teacher_id, class_id=follows[c.class_id])
        for c in directory.class_teachers
        if c.class_id in follows
    ]
    rows += [*classes.values(), *places, *teaching, *class_teachers]
    with transaction(conn):
        directory_storage.upsert(conn, rows, school_id=current.school_id)
        storage.carry_load(conn, follows)
        storage.carry_combined(conn, follows)
        storage.carry_groups(conn, promoted, current.ends.isoformat(), year.starts.isoformat())
        storage.graduate(conn, graduates, current.ends.isoformat())
        storage.record_promotions(
            conn,
            [
                (
                    current.id,
                    pid,
                    cls.id,
                    chosen.get(pid, default).value,
                    principal.login,
                    time.time(),
                )
                for cls, pid, _, default in plan
            ],
        )
    return Opened(
        year=year,
        classes=len(classes),
        pupils=counts,
        teaching=len(teaching),
        class_teachers=len(class_teachers),
    )
