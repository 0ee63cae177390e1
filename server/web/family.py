"""The diary for parents and pupils: only their own child, only with recorded consent."""

from __future__ import annotations

import datetime as dt
import time

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from server.deps import Db
from server.errors import BadRequest
from server.storage import web as storage
from server.storage.db import transaction
from server.web import people
from server.web.diary import build_diary
from server.web.guards import page_family, page_roles
from server.web.render import page
from shared.model import Role


def _week(value: str | None) -> dt.date:
    if not value:
        return people.week_start(dt.date.today())
    try:
        return people.week_start(dt.date.fromisoformat(value))
    except ValueError:
        raise BadRequest("Неверная дата недели: нужен формат ГГГГ-ММ-ДД.") from None


class DiaryController(Controller):
    path = "/diary"

    @get("/", guards=[page_family], sync_to_thread=True)
    def choose(self, request: Request, db: Db) -> Template | Redirect:
        principal = request.state.web.principal
        if people.without_consent(db, principal):
            return page(request, "no_consent.html", 403)
        kids = people.children(db, principal, people.directory_of(db, principal))
        if len(kids) == 1:
            return Redirect(path=f"/diary/{kids[0].id}", status_code=303)
        return page(request, "children.html", children=kids)

    @get("/{student_id:str}", guards=[page_family], sync_to_thread=True)
    def diary(
        self,
        request: Request,
        db: Db,
        student_id: FromPath[str],
        week: FromQuery[str | None] = None,
    ) -> Template:
        principal = request.state.web.principal
        directory = people.directory_of(db, principal)
        student = people.diary_student(db, principal, directory, student_id)
        if people.without_consent(db, principal, [student.id]):
            return page(request, "no_consent.html", 403)
        diary = build_diary(db, directory, student, _week(week))
        acknowledged = period_acknowledged = None
        if principal.has(Role.PARENT):
            acks = storage.acknowledgements(db, [student.id], diary.week.isoformat())
            acknowledged = acks.get((principal.person_id, student.id))
            if diary.marked_period is not None:
                key = storage.period_key(diary.marked_period.id)
                acks = storage.acknowledgements(db, [student.id], key)
                period_acknowledged = acks.get((principal.person_id, student.id))
        return page(
            request,
            "diary.html",
            offline=True,
            diary=diary,
            children=people.children(db, principal, directory),
            acknowledged=acknowledged,
            period_acknowledged=period_acknowledged,
            is_parent=principal.has(Role.PARENT),
        )

    @post("/{student_id:str}/read", guards=[page_roles(Role.PARENT)], sync_to_thread=True)
    def acknowledge(
        self,
        request: Request,
        db: Db,
        student_id: FromPath[str],
        week: FromQuery[str | None] = None,
    ) -> Redirect:
        """«Ознакомлен»: the parent confirms having read this week of the diary."""
        principal = request.state.web.principal
        student, _ = _own_child(db, principal, student_id)
        day = _week(week)
        with transaction(db):
            storage.acknowledge(db, principal.person_id, student.id, day.isoformat(), time.time())
        return Redirect(path=f"/diary/{student.id}?week={day.isoformat()}", status_code=303)

    @post("/{student_id:str}/read-period", guards=[page_roles(Role.PARENT)], sync_to_thread=True)
    def acknowledge_period(
        self, request: Request, db: Db, student_id: FromPath[str], period: FromQuery[str]
    ) -> Redirect:
        """004 §2.2.2: the parent confirms having seen the child's marks for a period."""
        principal = request.state.web.principal
        student, directory = _own_child(db, principal, student_id)
        if not any(p.id == period for p in directory.periods):
            raise BadRequest("Неизвестный учебный период.")
        with transaction(db):
            storage.acknowledge(
                db, principal.person_id, student.id, storage.period_key(period), time.time()
            )
        return Redirect(path=f"/diary/{student.id}", status_code=303)


def _own_child(db, principal, student_id: str):
    """The parent's own child (else refused) and the directory, once consent is recorded."""
    directory = people.directory_of(db, principal)
    student = people.diary_student(db, principal, directory, student_id)
    if people.without_consent(db, principal, [student.id]):
        raise BadRequest("Нет согласия на обработку персональных данных.")
    return student, directory
