"""Книга движения учащихся: a pupil arrives (from where, order, date), leaves (to where, order,
date), moves to another class of the school or to another school of this server. Each is a
change of class membership — the journals show the pupil only for the days they belonged, and
their marks stay where they were given — and a line of the book, written together in one
transaction."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from enum import StrEnum

import msgspec

from server.auth.principal import Principal
from server.errors import AccessDenied, BadRequest
from server.storage import directory as directory_storage
from server.storage import lists as storage
from server.storage.db import transaction
from server.web import people
from shared.model import Directory, Membership, Role, Student


class Movement(StrEnum):
    ARRIVED = "arrived"  # прибыл
    LEFT = "left"  # выбыл
    MOVED = "moved"  # переведён в другой класс
    TO_SCHOOL = "to_school"  # выбыл в другую школу этого сервера (issue 15)


TITLES = {
    Movement.ARRIVED: "прибыл",
    Movement.LEFT: "выбыл",
    Movement.MOVED: "переведён",
    Movement.TO_SCHOOL: "выбыл в другую школу",
}


class MovementOrder(msgspec.Struct, frozen=True, kw_only=True):
    """What the secretary enters from the director's order."""

    kind: Movement
    student_id: str
    day: dt.date  # arrived / moved: first day in the class; left: first day no longer in it
    order_no: str  # «№ 45-у от 14.11.2026»
    place: str = ""  # from which school (arrived) / where to (left)
    class_id: str = ""  # the class arrived in or moved to (to_school: of the other school)
    school_id: str = ""  # to_school: the school of this server the pupil goes to


class Done(msgspec.Struct, frozen=True, kw_only=True):
    kind: Movement
    student_id: str
    student_name: str
    class_from: str | None
    class_to: str | None
    day: dt.date


def _check(directory: Directory, order: MovementOrder) -> None:
    problems = []
    if not order.order_no.strip() or len(order.order_no) > 100:
        problems.append("укажите номер и дату приказа (до 100 знаков)")
    if len(order.place) > 300:
        problems.append("место — не длиннее 300 знаков")
    if not directory.year.starts <= order.day <= directory.year.ends:
        problems.append(
            f"дата вне учебного года {directory.year.name} "
            f"({directory.year.starts:%d.%m.%Y}–{directory.year.ends:%d.%m.%Y})"
        )
    if directory.closure is not None:
        problems.append("учебный год закрыт")
    if order.kind in (Movement.ARRIVED, Movement.MOVED) and order.class_id not in {
        c.id for c in directory.classes
    }:
        problems.append("выберите класс этого учебного года")
    if order.kind is Movement.TO_SCHOOL and order.school_id == directory.school.id:
        problems.append("это та же школа: для перевода в другой класс выберите «переведён»")
    if problems:
        raise BadRequest("Движение не записано: " + "; ".join(problems) + ".")


def record(conn: sqlite3.Connection, principal: Principal, order: MovementOrder) -> Done:
    """Change the pupil's class membership as the order says and write the book's line."""
    if not principal.has(Role.DIRECTOR, Role.DEPUTY, Role.SYSADMIN):
        raise AccessDenied("Движение учащихся записывает администрация школы.")
    directory = people.directory_of(conn, principal)
    _check(directory, order)
    student = next((s for s in directory.students if s.id == order.student_id), None)
    if student is None:
        raise BadRequest("Такого ученика в школе нет: сначала загрузите его в список учеников.")
    if order.kind is Movement.TO_SCHOOL:
        return _to_school(conn, principal, directory, student, order)
    day = order.day.isoformat()
    before = (order.day - dt.timedelta(days=1)).isoformat()
    with transaction(conn):
        member = storage.open_membership(conn, student.id, directory.year.id, day)
        class_from = None
        if order.kind is Movement.ARRIVED:
            if member is not None and member["class_id"] != order.class_id:
                raise BadRequest(
                    "Ученик уже числится в другом классе: для перевода выберите «переведён»."
                )
            if member is not None:  # put in by the pupils' list: the order's date stands
                storage.end_membership(conn, member, "")
        else:
            if member is None:
                raise BadRequest("Ученик не числится ни в одном классе на эту дату.")
            if order.kind is Movement.MOVED and member["class_id"] == order.class_id:
                raise BadRequest("Ученик уже в этом классе.")
            storage.end_membership(conn, member, before)
            class_from = member["class_id"]
        if order.kind is not Movement.LEFT:
            new_place = Membership(student_id=student.id, class_id=order.class_id, starts=order.day)
            directory_storage.upsert(conn, [new_place])
        class_to = None if order.kind is Movement.LEFT else order.class_id
        storage.add_movement(
            conn,
            school_id=directory.school.id,
            student_id=student.id,
            kind=order.kind.value,
            day=day,
            order_no=order.order_no.strip(),
            place=order.place.strip(),
            class_from=class_from,
            class_to=class_to,
            recorded_by=principal.login,
            recorded_at=time.time(),
        )
    return Done(
        kind=order.kind,
        student_id=student.id,
        student_name=student.full_name,
        class_from=class_from,
        class_to=class_to,
        day=order.day,
    )


def _to_school(
    conn: sqlite3.Connection,
    principal: Principal,
    directory: Directory,
    student: Student,
    order: MovementOrder,
) -> Done:
    """The pupil goes to another school of this server: their place in this school ends the
    day before the order's date and one in the other school's class starts on it, with a line
    in each school's book, in one transaction. The pupil keeps their id, so their personal
    file, parents and incoming marks follow; this school keeps its journals and shows the
    pupil in them for the days they belonged."""
    try:
        target = directory_storage.load_full(conn, school_id=order.school_id)
    except LookupError:
        target = None
    if target is None or not order.school_id:
        raise BadRequest("Движение не записано: выберите школу этого сервера.")
    if not any(c.id == order.class_id for c in target.classes):
        raise BadRequest(
            f"Движение не записано: выберите класс школы «{target.school.name}» "
            f"({target.year.name} учебный год)."
        )
    if not target.year.starts <= order.day <= target.year.ends:
        raise BadRequest(
            f"Движение не записано: дата вне учебного года школы «{target.school.name}»."
        )
    day = order.day.isoformat()
    with transaction(conn):
        member = storage.open_membership(conn, student.id, directory.year.id, day)
        if member is None:
            raise BadRequest("Ученик не числится ни в одном классе на эту дату.")
        storage.end_membership(conn, member, (order.day - dt.timedelta(days=1)).isoformat())
        directory_storage.upsert(
            conn, [Membership(student_id=student.id, class_id=order.class_id, starts=order.day)]
        )
        line = dict(
            student_id=student.id,
            day=day,
            order_no=order.order_no.strip(),
            recorded_by=principal.login,
            recorded_at=time.time(),
        )
        storage.add_movement(
            conn,
            school_id=directory.school.id,
            kind=Movement.TO_SCHOOL.value,
            place=order.place.strip() or target.school.name,
            class_from=member["class_id"],
            class_to=None,
            **line,
        )
        storage.add_movement(
            conn,
            school_id=target.school.id,
            kind=Movement.ARRIVED.value,
            place=directory.school.name,
            class_from=None,
            class_to=order.class_id,
            **line,
        )
    return Done(
        kind=order.kind,
        student_id=student.id,
        student_name=student.full_name,
        class_from=member["class_id"],
        class_to=order.class_id,
        day=order.day,
    )


def book(
    conn: sqlite3.Connection, principal: Principal
) -> tuple[Directory, list[dict], list[tuple[str, str, str]]]:
    """The year's lines of the book, in order of date, and the classes of the server's other
    schools a pupil may move to: (school id, class id, «Школа — 5А»)."""
    directory = people.directory_of(conn, principal)
    rows = storage.movements(
        conn,
        directory.school.id,
        directory.year.starts.isoformat(),
        directory.year.ends.isoformat(),
    )
    names = {c.id: f"{c.grade}{c.letter}" for c in directory.classes}
    for row in rows:
        row["title"] = TITLES[Movement(row["kind"])]
        row["from_name"] = names.get(row["class_from"] or "", "")
        row["to_name"] = names.get(row["class_to"] or "", "")
    return directory, rows, storage.other_schools_classes(conn, directory.school.id)
