"""Who may see which pupil: the one place the web pages decide it (000 §5.5, §6.2)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time

from server.auth.principal import Principal
from server.errors import AccessDenied, NotFound
from server.storage import directory as directory_storage
from server.storage import web as storage
from server.storage.db import transaction
from shared.model import Directory, Role, SchoolClass, Student


def audit(
    conn: sqlite3.Connection,
    principal: Principal,
    action: str,
    *,
    student_id: str | None = None,
    class_id: str | None = None,
    detail: str = "",
    outcome: str = "allowed",
) -> None:
    """Log a view of pupils' personal data by staff, or any refused attempt (who, what, when)."""
    with transaction(conn):
        storage.audit(
            conn,
            now=time.time(),
            login=principal.login,
            role=principal.role.value,
            action=action,
            student_id=student_id,
            class_id=class_id,
            detail=detail,
            outcome=outcome,
        )


def directory_of(conn: sqlite3.Connection, principal: Principal) -> Directory:
    """The directory of the person's own school: nothing of another school reaches a page."""
    try:
        return directory_storage.load_full(conn, school_id=principal.school_id)
    except LookupError:
        if principal.school_id is None:
            raise AccessDenied(
                "Ваша учётная запись не относится ни к одной школе: обратитесь к администратору."
            ) from None
        raise NotFound("В справочнике школы нет учебного года.") from None


def children(conn: sqlite3.Connection, principal: Principal, directory: Directory) -> list[Student]:
    """The pupils whose diary this parent or student may read."""
    if principal.has(Role.PARENT):
        ids = set(storage.children_of(conn, principal.person_id))
    elif principal.has(Role.STUDENT):
        ids = {principal.person_id}
    else:
        ids = set()
    return [s for s in directory.students if s.id in ids]


def consent_given(conn: sqlite3.Connection, principal: Principal, student_id: str) -> bool:
    """Electronic access to a child's records needs personal-data consent for that child
    (000 §5.5, 152-FZ): one child's consent never opens another's. A parent needs their own
    for the child; a pupil needs one of their parents' (they are minors)."""
    if principal.has(Role.PARENT):
        parent_ids = [principal.person_id]
    elif principal.has(Role.STUDENT) and student_id == principal.person_id:
        parent_ids = [p["id"] for p in storage.parents_of(conn, [student_id])]
    else:
        return False
    found = storage.consents(conn, parent_ids)
    return any(c.status == "given" for (_, child), c in found.items() if child == student_id)


def without_consent(
    conn: sqlite3.Connection, principal: Principal, student_ids: list[str] | None = None
) -> bool:
    """A family member who may not see these children's records electronically (None: any of
    their children); staff are never held back by it."""
    if not principal.has(Role.PARENT, Role.STUDENT):
        return False
    if student_ids is None:
        student_ids = (
            storage.children_of(conn, principal.person_id)
            if principal.has(Role.PARENT)
            else [principal.person_id]
        )
    return not any(consent_given(conn, principal, s) for s in student_ids)


def diary_student(
    conn: sqlite3.Connection, principal: Principal, directory: Directory, student_id: str
) -> Student:
    """The pupil if this family member may read their diary; refused and logged otherwise."""
    allowed = children(conn, principal, directory)
    found = next((s for s in allowed if s.id == student_id), None)
    if found is None:
        audit(conn, principal, "diary", student_id=student_id, outcome="refused")
        raise AccessDenied("Можно смотреть только дневник своего ребёнка.")
    return found


def classes_of_staff(principal: Principal, directory: Directory) -> list[SchoolClass]:
    """Classes whose whole journal this person reads: their own as class teacher; all for the
    administration."""
    if principal.is_administration:
        return list(directory.classes)
    own = {c.class_id for c in directory.class_teachers if c.teacher_id == principal.person_id}
    return [c for c in directory.classes if c.id in own]


def class_for_staff(
    conn: sqlite3.Connection, principal: Principal, directory: Directory, class_id: str
) -> SchoolClass:
    found = next((c for c in classes_of_staff(principal, directory) if c.id == class_id), None)
    if found is None:
        audit(conn, principal, "class_view", class_id=class_id, outcome="refused")
        if not any(c.id == class_id for c in directory.classes):
            raise NotFound("Такого класса нет.")
        raise AccessDenied("Этот класс вам недоступен: вы не его классный руководитель.")
    return found


def student_classes(directory: Directory, student_id: str) -> list[str]:
    return [m.class_id for m in directory.memberships if m.student_id == student_id]


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())
