"""Class view for the class teacher (and the administration): read-only, every subject."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from server.deps import Db
from server.errors import BadRequest, NotFound
from server.printing import render_pdf
from server.storage import web as storage
from server.storage.db import transaction
from server.web import people
from server.web.class_view import current_period, extract_data, parent_statuses, subject_grids
from server.web.guards import page_class_staff
from server.web.render import page
from shared.model import Directory, Period

Form = URLEncodedBody[dict[str, Any]]


def _period(directory: Directory, period_id: str | None) -> Period:
    if period_id:
        found = next((p for p in directory.periods if p.id == period_id), None)
        if found is None:
            raise BadRequest("Нет такого учебного периода.")
        return found
    found = current_period(directory, dt.date.today())
    if found is None:
        raise NotFound("В учебном году нет периодов.")
    return found


class ClassController(Controller):
    path = "/classes"

    @get("/", guards=[page_class_staff], sync_to_thread=True)
    def index(self, request: Request, db: Db) -> Template:
        principal = request.state.web.principal
        classes = people.classes_of_staff(principal, people.directory_of(db, principal))
        return page(request, "classes.html", classes=classes)

    @get("/{class_id:str}", guards=[page_class_staff], sync_to_thread=True)
    def show(
        self,
        request: Request,
        db: Db,
        class_id: FromPath[str],
        period: FromQuery[str | None] = None,
    ) -> Template:
        principal = request.state.web.principal
        directory = people.directory_of(db, principal)
        school_class = people.class_for_staff(db, principal, directory, class_id)
        chosen = _period(directory, period)
        people.audit(db, principal, "class_view", class_id=class_id, detail=chosen.id)
        week = people.week_start(dt.date.today())
        return page(
            request,
            "class.html",
            school_class=school_class,
            period=chosen,
            periods=[p for p in directory.periods],
            grids=subject_grids(db, directory, class_id, chosen.starts, chosen.ends, chosen),
            parents=parent_statuses(db, directory, class_id, week, chosen.id),
            roster=directory.class_roster(class_id),
            week=week,
        )

    @post("/{class_id:str}/consent", guards=[page_class_staff], sync_to_thread=True)
    def consent(self, request: Request, db: Db, class_id: FromPath[str], data: Form) -> Redirect:
        """Record a parent's signed consent or refusal for one child (000 §5.5): one child's
        consent never opens another child's diary."""
        principal = request.state.web.principal
        directory = people.directory_of(db, principal)
        people.class_for_staff(db, principal, directory, class_id)
        parent_id, status = str(data.get("parent_id", "")), str(data.get("status", ""))
        student_id = str(data.get("student_id", ""))
        roster = [s.id for s in directory.class_roster(class_id)]
        links = {(p["id"], p["student_id"]) for p in storage.parents_of(db, roster)}
        if (parent_id, student_id) not in links:
            raise BadRequest("Этот родитель не относится к этому ученику класса.")
        if status not in ("given", "refused"):
            raise BadRequest("Укажите: согласие дано или получен отказ.")
        note = str(data.get("note", ""))[:500]
        with transaction(db):
            storage.set_consent(
                db, parent_id, status, principal.login, time.time(), note, student_id=student_id
            )
        return Redirect(path=f"/classes/{class_id}#parents", status_code=303)

    @post("/{class_id:str}/read", guards=[page_class_staff], sync_to_thread=True)
    def paper_acknowledgement(
        self, request: Request, db: Db, class_id: FromPath[str], data: Form
    ) -> Redirect:
        """A parent signed the paper extract: the class teacher records the acknowledgement."""
        principal = request.state.web.principal
        directory = people.directory_of(db, principal)
        people.class_for_staff(db, principal, directory, class_id)
        parent_id, student_id = str(data.get("parent_id", "")), str(data.get("student_id", ""))
        roster = [s.id for s in directory.class_roster(class_id)]
        links = {(p["id"], p["student_id"]) for p in storage.parents_of(db, roster)}
        if (parent_id, student_id) not in links:
            raise BadRequest("Этот родитель не относится к этому ученику класса.")
        week = people.week_start(dt.date.today()).isoformat()
        with transaction(db):
            storage.acknowledge(db, parent_id, student_id, week, time.time())
        return Redirect(path=f"/classes/{class_id}#parents", status_code=303)

    @get(
        "/{class_id:str}/extract/{student_id:str}",
        guards=[page_class_staff],
        sync_to_thread=True,
    )
    def extract(
        self,
        request: Request,
        db: Db,
        class_id: FromPath[str],
        student_id: FromPath[str],
        period: FromQuery[str | None] = None,
    ) -> Response:
        """Printable diary extract (PDF) of one pupil for a period, for a parent offline."""
        principal = request.state.web.principal
        directory = people.directory_of(db, principal)
        people.class_for_staff(db, principal, directory, class_id)
        if student_id not in {s.id for s in directory.class_roster(class_id)}:
            people.audit(db, principal, "diary_extract", student_id=student_id, outcome="refused")
            raise NotFound("Такого ученика в классе нет.")
        chosen = _period(directory, period)
        people.audit(
            db,
            principal,
            "diary_extract",
            student_id=student_id,
            class_id=class_id,
            detail=chosen.id,
        )
        data = extract_data(
            db, directory, student_id, class_id, chosen.starts, chosen.ends, chosen.name
        )
        return Response(
            render_pdf("diary_extract", data),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="extract-{student_id}.pdf"'},
        )
