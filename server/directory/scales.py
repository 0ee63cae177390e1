"""The school's scales and weights, set by the deputy director (issue 16).

Stored beside the directory, so the laptops receive them with it (Directory.scales/weights)
and the shared rules refuse a value outside a journal's scale on both sides.
"""

from __future__ import annotations

import sqlite3

from server.archive.closing import actor, actor_school
from server.errors import BadRequest
from server.storage import directory as storage
from server.storage.db import transaction
from shared.model import (
    ADMINISTRATION,
    SCALE_RU,
    Scale,
    ScaleSetting,
    WorkKind,
    WorkWeight,
)

SCALE_WORDS = {
    "пятибалльная": Scale.FIVE_POINT,
    "5": Scale.FIVE_POINT,
    "зачёт": Scale.PASS_FAIL,
    "зачет": Scale.PASS_FAIL,
    "без-отметок": Scale.NONE,
    "без отметок": Scale.NONE,
    **{s.value: s for s in Scale},
}


def _school(conn: sqlite3.Connection, login: str) -> str:
    actor(conn, login, ADMINISTRATION, "шкалы и веса задаёт заместитель директора или директор")
    school = actor_school(conn, login)
    if school is None:
        raise BadRequest("Не найдена школа этой учётной записи.")
    return school


def set_scale(
    conn: sqlite3.Connection,
    *,
    login: str,
    scale: str,
    grade: int | None = None,
    subject_id: str | None = None,
    modifiers: bool = False,
) -> ScaleSetting:
    """Set the scale of a grade, a subject or a subject in one grade; checks every field."""
    school = _school(conn, login)
    chosen = SCALE_WORDS.get(scale.strip().lower())
    if chosen is None:
        raise BadRequest(
            "Неизвестная шкала: пятибалльная, зачёт или без-отметок ("
            + ", ".join(SCALE_RU.values())
            + ")."
        )
    if grade is None and not subject_id:
        raise BadRequest("Укажите класс (параллель 1–11), предмет или оба.")
    if grade is not None and not 1 <= grade <= 11:
        raise BadRequest("Параллель должна быть от 1 до 11.")
    if (
        subject_id
        and conn.execute("SELECT 1 FROM subjects WHERE id = ?", (subject_id,)).fetchone() is None
    ):
        raise BadRequest(f"Предмет «{subject_id}» не найден в справочнике.")
    if modifiers and chosen is not Scale.FIVE_POINT:
        raise BadRequest("«+» и «−» бывают только у пятибалльных отметок.")
    setting = ScaleSetting(scale=chosen, grade=grade, subject_id=subject_id, modifiers=modifiers)
    with transaction(conn):
        storage.set_scale(conn, school, setting)
    return setting


def set_weight(conn: sqlite3.Connection, *, login: str, work_kind: str, weight: int) -> WorkWeight:
    """The school's weight of marks for one kind of work (002 §3.2)."""
    school = _school(conn, login)
    if work_kind not in {k.value for k in WorkKind}:
        raise BadRequest("Неизвестный вид работы: " + ", ".join(k.value for k in WorkKind) + ".")
    if not 1 <= weight <= 5:
        raise BadRequest("Вес отметки должен быть от 1 до 5.")
    row = WorkWeight(work_kind=work_kind, weight=weight)
    with transaction(conn):
        storage.set_weight(conn, school, row)
    return row
