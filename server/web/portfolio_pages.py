"""Portfolio pages: the pupil's and parents' view beside the diary with its printed copy, the
attached documents, the class teacher's overview and the school's list (001 §3.4, 003 §3)."""

from __future__ import annotations

import re
from urllib.parse import quote

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from server.deps import Db
from server.errors import AccessDenied, BadRequest, NotFound
from server.printing import render_pdf
from server.storage import portfolio_read
from server.web import people, portfolio
from server.web.admin import FORMATS, download
from server.web.guards import page_administration, page_class_staff, page_family, page_roles
from server.web.pupil_access import class_name_of, viewer_student
from server.web.render import page
from shared.model import (
    ACHIEVEMENT_KIND_RU,
    ACHIEVEMENT_LEVEL_RU,
    ACHIEVEMENT_RESULT_RU,
    AchievementKind,
    AchievementLevel,
    AchievementResult,
    Role,
)

page_portfolio_readers = page_roles(
    Role.PARENT, Role.STUDENT, Role.TEACHER, Role.DEPUTY, Role.DIRECTOR
)
NO_CONSENT_WHAT = "Портфолио"


def _family_without_consent(request: Request, db: Db, student_id: str | None = None) -> bool:
    return people.without_consent(
        db, request.state.web.principal, None if student_id is None else [student_id]
    )


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback name and the real (Cyrillic) one per RFC 6266."""
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _choice(enum: type, value: str | None, label: str):
    if not value:
        return None
    try:
        return enum(value)
    except ValueError:
        raise BadRequest(f"Неверное значение «{label}».") from None


class PortfolioController(Controller):
    path = "/portfolio"

    @get("/", guards=[page_family], sync_to_thread=True)
    def choose(self, request: Request, db: Db) -> Template | Redirect:
        if _family_without_consent(request, db):
            return page(request, "no_consent.html", 403, what=NO_CONSENT_WHAT)
        principal = request.state.web.principal
        kids = people.children(db, principal, people.directory_of(db, request.state.web.principal))
        if len(kids) == 1:
            return Redirect(path=f"/portfolio/{kids[0].id}", status_code=303)
        return page(request, "children.html", children=kids, base="/portfolio")

    @get("/{student_id:str}", guards=[page_family], sync_to_thread=True)
    def show(self, request: Request, db: Db, student_id: FromPath[str]) -> Template:
        principal = request.state.web.principal
        directory = people.directory_of(db, request.state.web.principal)
        student = viewer_student(db, principal, directory, student_id, "portfolio")
        if _family_without_consent(request, db, student.id):
            return page(request, "no_consent.html", 403, what=NO_CONSENT_WHAT)
        return page(
            request,
            "portfolio.html",
            offline=True,
            student=student,
            class_name=class_name_of(directory, student.id),
            lines=portfolio.of_student(db, student.id),
            children=people.children(db, principal, directory),
        )

    @get("/{student_id:str}/pdf", guards=[page_portfolio_readers], sync_to_thread=True)
    def pdf(self, request: Request, db: Db, student_id: FromPath[str]) -> Response:
        """The printed portfolio: for the family, or printed by the class teacher for them."""
        principal = request.state.web.principal
        directory = people.directory_of(db, request.state.web.principal)
        student = viewer_student(db, principal, directory, student_id, "portfolio_pdf")
        if _family_without_consent(request, db, student.id):
            raise AccessDenied(
                "Нет согласия на обработку персональных данных: портфолио выдаёт классный "
                "руководитель на бумаге."
            )
        data = portfolio.pdf_data(
            directory,
            student,
            class_name_of(directory, student.id),
            portfolio.of_student(db, student.id),
        )
        return Response(
            render_pdf("portfolio", data),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="portfolio-{student.id}.pdf"'},
        )

    @get("/document/{achievement_id:str}", guards=[page_portfolio_readers], sync_to_thread=True)
    def document(self, request: Request, db: Db, achievement_id: FromPath[str]) -> Response:
        """The diploma scan of one achievement, to whoever may see that pupil."""
        principal = request.state.web.principal
        directory = people.directory_of(db, request.state.web.principal)
        found = portfolio_read.achievement(db, achievement_id)
        if found is None:
            people.audit(
                db, principal, "portfolio_document", detail=achievement_id, outcome="refused"
            )
            raise NotFound("Такого достижения нет.")
        viewer_student(db, principal, directory, found.student_id, "portfolio_document")
        if _family_without_consent(request, db, found.student_id):
            raise AccessDenied("Нет согласия на обработку персональных данных.")
        stored = (
            portfolio_read.complete_document(db, found.attachment.sha256)
            if found.attachment
            else None
        )
        if found.attachment is None or stored is None:
            raise NotFound("Документ к этому достижению ещё не загружен на сервер.")
        return Response(
            stored.body,
            media_type=stored.media_type,
            headers={
                "Content-Disposition": content_disposition(found.attachment.name),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )


class PortfolioStaffController(Controller):
    @get("/classes/{class_id:str}/portfolio", guards=[page_class_staff], sync_to_thread=True)
    def class_overview(self, request: Request, db: Db, class_id: FromPath[str]) -> Template:
        principal = request.state.web.principal
        directory = people.directory_of(db, request.state.web.principal)
        school_class = people.class_for_staff(db, principal, directory, class_id)
        people.audit(db, principal, "class_portfolio", class_id=class_id)
        return page(
            request,
            "class_portfolio.html",
            school_class=school_class,
            pupils=portfolio.class_overview(db, directory, class_id),
            year=directory.year,
        )

    @get("/gifted", guards=[page_administration], sync_to_thread=True)
    def gifted(
        self,
        request: Request,
        db: Db,
        level: FromQuery[str | None] = None,
        result: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        class_id: FromQuery[str | None] = None,
        format: FromQuery[str] = "html",
    ) -> Template | Response:
        """The school's achievements by level and result, filterable and downloadable."""
        if format not in FORMATS:
            raise BadRequest("Формат: html, pdf, xlsx или csv.")
        directory = people.directory_of(db, request.state.web.principal)
        if class_id and not any(c.id == class_id for c in directory.classes):
            raise BadRequest("Нет такого класса.")
        filters = portfolio.SchoolFilters(
            level=_choice(AchievementLevel, level, "уровень"),
            result=_choice(AchievementResult, result, "результат"),
            kind=_choice(AchievementKind, kind, "вид"),
            class_id=class_id or None,
        )
        people.audit(
            db, request.state.web.principal, "gifted_list", class_id=filters.class_id, detail=format
        )
        report = portfolio.school_list(db, directory, filters)
        if format != "html":
            return download(report, format)
        return page(
            request,
            "gifted.html",
            report=report,
            filters=filters,
            classes=directory.classes,
            levels=ACHIEVEMENT_LEVEL_RU,
            results=ACHIEVEMENT_RESULT_RU,
            kinds=ACHIEVEMENT_KIND_RU,
        )
