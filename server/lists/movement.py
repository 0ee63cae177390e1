"""Книга движения учащихся: a pupil arrives (from where, order, date), leaves (to where, order,
date) or moves to another class of the school. Each is a change of class membership — the
journals show the pupil only for the days they belonged, and their marks stay where they were
given — and a line of the book, written together in one transaction."""

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
from shared.model import Directory, Membership, Role


class Movement(StrEnum):
    ARRIVED = "arrived"  # прибыл
    LEFT = "left"  # выбыл
    MOVED = "moved"  # переведён в другой класс


TITLES = {Movement.ARRIVED: "прибыл", Movement.LEFT: "выбыл", Movement.MOVED: "переведён"}


class MovementOrder(msgspec.Struct, frozen=True, kw_only=True):
    """What the secretary enters from the director's order."""

    kind: Movement
    student_id: str
    day: dt.date  # arrived / moved: first day in the class; left: first day no longer in it
    order_no: str  # «№ 45-у от 14.11.2026»
    place: str = ""  # from which school (arrived) / where to (left)
    class_id: str = ""  # the class arrived in or moved to


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


def book(conn: sqlite3.Connection, principal: Principal) -> tuple[Directory, list[dict]]:
    """The year's lines of the book, in order of date."""
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
    return directory, rows
