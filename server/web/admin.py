"""Reports for the administration, the district aggregate, closing periods and the audit log."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from server.archive import pdf_cache
from server.deps import Db
from server.errors import BadRequest, NotFound
from server.printing import render_pdf, table_csv, table_pdf, table_xlsx
from server.reports.catalog import REPORTS, Report, build
from server.reports.dataset import Filters
from server.reports.district import district_report, imported_schools, visible_schools
from server.reports.summary_sheet import summary_sheet
from server.storage import web as storage
from server.storage.db import transaction
from server.web import people
from server.web.guards import page_administration, page_audit, page_deputy, page_district
from server.web.render import page
from shared.model import PeriodKind

Form = URLEncodedBody[dict[str, Any]]
FORMATS = {"html", "pdf", "xlsx", "csv"}


def _date(value: str | None, label: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"Неверная дата «{label}»: нужен формат ГГГГ-ММ-ДД.") from None


def download(report: Report, fmt: str, *, pdf: bytes | None = None) -> Response:
    if fmt == "pdf":
        body = pdf or table_pdf(
            report.title,
            report.header,
            report.rows,
            subtitle=report.subtitle,
            notes=report.notes,
            landscape=report.landscape,
        )
        media, ext = "application/pdf", "pdf"
    elif fmt == "xlsx":
        body = table_xlsx(report.title, report.header, report.rows)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        ext = "xlsx"
    else:
        body, media, ext = table_csv(report.header, report.rows), "text/csv; charset=utf-8", "csv"
    disposition = "inline" if fmt == "pdf" else "attachment"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'{disposition}; filename="{report.name}.{ext}"'},
    )


class AdminController(Controller):
    @get("/reports", guards=[page_administration], sync_to_thread=True)
    def reports(self, request: Request, db: Db) -> Template:
        directory = people.directory_of(db, request.state.web.principal)
        return page(request, "reports.html", reports=REPORTS, directory=directory)

    @get("/reports/{name:str}", guards=[page_administration], sync_to_thread=True)
    def report(
        self,
        request: Request,
        db: Db,
        name: FromPath[str],
        date_from: FromQuery[str | None] = None,
        date_to: FromQuery[str | None] = None,
        class_id: FromQuery[str | None] = None,
        subject_id: FromQuery[str | None] = None,
        teacher_id: FromQuery[str | None] = None,
        format: FromQuery[str] = "html",
    ) -> Template | Response | Redirect:
        if name not in REPORTS:
            raise NotFound("Такого отчёта нет.")
        chosen = request.query_params.get("__report")
        if chosen and chosen != name and chosen in REPORTS:
            # the filter form's report choice, without a script (the CSP allows none inline)
            rest = urlencode([(k, v) for k, v in request.query_params.items() if k != "__report"])
            return Redirect(path=f"/reports/{chosen}?{rest}", status_code=303)
        if format not in FORMATS:
            raise BadRequest("Формат: html, pdf, xlsx или csv.")
        filters = Filters(
            date_from=_date(date_from, "с"),
            date_to=_date(date_to, "по"),
            class_id=class_id or None,
            subject_id=subject_id or None,
            teacher_id=teacher_id or None,
        )
        principal = request.state.web.principal
        directory = people.directory_of(db, principal)
        if filters.class_id and not any(c.id == filters.class_id for c in directory.classes):
            people.audit(db, principal, f"report:{name}", class_id=class_id, outcome="refused")
            raise NotFound("Такого класса в вашей школе нет.")
        people.audit(db, principal, f"report:{name}", class_id=filters.class_id, detail=format)
        report = build(db, directory, name, filters)
        if format == "html":
            return page(
                request,
                "report.html",
                report=report,
                reports=REPORTS,
                directory=directory,
                filters=filters,
                query=request.url.query,
            )
        pdf = None
        if name == "summary" and format == "pdf" and filters.class_id:
            pdf = render_pdf(
                "summary_sheet",
                summary_sheet(db, filters.class_id, directory=directory).print_data(),
            )
        return download(report, format, pdf=pdf)

    @get("/district", guards=[page_district], sync_to_thread=True)
    def district(
        self,
        request: Request,
        db: Db,
        date_from: FromQuery[str | None] = None,
        date_to: FromQuery[str | None] = None,
        format: FromQuery[str] = "html",
    ) -> Template | Response:
        """Figures without names: a district account's schools, or the administration's own."""
        if format not in FORMATS:
            raise BadRequest("Формат: html, pdf, xlsx или csv.")
        first, last = _date(date_from, "с"), _date(date_to, "по")
        if first and last and first > last:
            raise BadRequest("Начало периода позже его конца.")
        principal = request.state.web.principal
        schools = visible_schools(db, principal)
        report = district_report(db, schools, first, last, imported=imported_schools(db, principal))
        if format == "html":
            return page(
                request,
                "report.html",
                report=report,
                reports={},
                plain=True,
                district_form=True,
                date_from=date_from or "",
                date_to=date_to or "",
                query=request.url.query.replace("format=html", ""),
            )
        return download(report, format)

    @get("/audit", guards=[page_audit], sync_to_thread=True)
    def audit(self, request: Request, db: Db) -> Template:
        school = request.state.web.principal.school_id
        return page(request, "audit.html", entries=storage.audit_entries(db, school_id=school))

    @get("/periods", guards=[page_deputy], sync_to_thread=True)
    def periods(self, request: Request, db: Db) -> Template:
        directory = people.directory_of(db, request.state.web.principal)
        closed = {(c["class_id"], c["period_id"]): c for c in storage.closures(db)}
        periods = [p for p in directory.periods if p.kind != PeriodKind.YEAR]
        return page(
            request, "periods.html", classes=directory.classes, periods=periods, closed=closed
        )

    @post("/periods/close", guards=[page_deputy], sync_to_thread=True)
    def close(self, request: Request, db: Db, data: Form) -> Redirect:
        """Close a period for a class: later changes of its marks need a reason (000 §5.3)."""
        directory = people.directory_of(db, request.state.web.principal)
        class_id, period_id = str(data.get("class_id", "")), str(data.get("period_id", ""))
        if not any(c.id == class_id for c in directory.classes):
            raise BadRequest("Нет такого класса.")
        if not any(p.id == period_id for p in directory.periods):
            raise BadRequest("Нет такого учебного периода.")
        login = request.state.web.principal.login
        with transaction(db):
            storage.close_period(db, class_id, period_id, login, time.time())
        period = next(p for p in directory.periods if p.id == period_id)
        # the class's journals as they stand are printed ahead for the archive (issue 20)
        pdf_cache.prerender_in_background(
            request.app.state.config.database, period.year_id, class_id
        )
        return Redirect(path="/periods", status_code=303)
