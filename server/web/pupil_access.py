"""Who may see one pupil's portfolio, personal file or extract (000 §5.5, §6.2).

Family members see only their own child and only with recorded consent; staff see the pupils
of the classes they lead this year, the administration sees every pupil. Every refusal is
logged; every allowed view by staff is logged by the page that shows it.
"""

from __future__ import annotations

import sqlite3

from server.auth.principal import Principal
from server.errors import AccessDenied, NotFound
from server.web import people
from shared.model import Directory, Role, Student


def family_student(
    conn: sqlite3.Connection,
    principal: Principal,
    directory: Directory,
    student_id: str,
    action: str,
) -> Student:
    """The pupil if this parent or pupil may see them; refused and logged otherwise."""
    found = next(
        (s for s in people.children(conn, principal, directory) if s.id == student_id), None
    )
    if found is None:
        people.audit(conn, principal, action, student_id=student_id, outcome="refused")
        raise AccessDenied("Можно смотреть только данные своего ребёнка.")
    return found


def led_student_ids(principal: Principal, directory: Directory) -> set[str]:
    """Pupils of the classes this person leads (every membership of the year, past ones too)."""
    classes = {c.id for c in people.classes_of_staff(principal, directory)}
    return {m.student_id for m in directory.memberships if m.class_id in classes}


def staff_student(
    conn: sqlite3.Connection,
    principal: Principal,
    directory: Directory,
    student_id: str,
    action: str,
    *,
    records_officer: bool = False,
) -> Student:
    """The pupil if this staff member may see them: the administration (and the records
    officer where `records_officer`) every pupil, a class teacher the pupils of their class."""
    student = next((s for s in directory.students if s.id == student_id), None)
    everyone = principal.is_administration or (
        records_officer and principal.has(Role.RECORDS_OFFICER)
    )
    if student is not None and (everyone or student_id in led_student_ids(principal, directory)):
        return student
    people.audit(conn, principal, action, student_id=student_id, outcome="refused")
    if student is None:
        raise NotFound("Такого ученика нет.")
    raise AccessDenied("Этот ученик вам недоступен: вы не классный руководитель его класса.")


def viewer_student(
    conn: sqlite3.Connection,
    principal: Principal,
    directory: Directory,
    student_id: str,
    action: str,
) -> Student:
    """Family members through `family_student`, staff through `staff_student` (then logged)."""
    if principal.has(Role.PARENT, Role.STUDENT):
        return family_student(conn, principal, directory, student_id, action)
    student = staff_student(conn, principal, directory, student_id, action)
    people.audit(conn, principal, action, student_id=student_id)
    return student


def class_name_of(directory: Directory, student_id: str) -> str:
    """The pupil's class this year: the open membership, else the latest one."""
    memberships = sorted(
        (m for m in directory.memberships if m.student_id == student_id), key=lambda m: m.starts
    )
    current = [m for m in memberships if m.ends is None] or memberships
    if not current:
        return ""
    return next((c.name for c in directory.classes if c.id == current[-1].class_id), "")
