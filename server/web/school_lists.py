"""/school: the secretary's page for the school's lists — templates, upload, preview, apply
(for the system administrator, the director and the deputy)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, URLEncodedBody
from litestar.response import Template

from server.deps import Db
from server.errors import BadRequest, NotFound
from server.lists import SPECS, ListKind, movement, next_year, template_csv, template_xlsx
from server.lists.drafts import MAX_FILE_BYTES, apply_draft, day_of, kind_of, upload
from server.web import people
from server.web.guards import page_roles
from server.web.render import page
from shared.model import Role

page_school_lists = page_roles(Role.SYSADMIN, Role.DIRECTOR, Role.DEPUTY)
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SchoolListsController(Controller):
    path = "/school"

    @get("/", guards=[page_school_lists], sync_to_thread=True)
    def index(self, request: Request) -> Template:
        return page(request, "school.html", specs=list(SPECS.values()))

    @get("/templates/{name:str}", guards=[page_school_lists], sync_to_thread=True)
    def template(self, name: FromPath[str]) -> Response:
        """The list's template: Russian headers and one example line, as CSV or XLSX."""
        kind_text, _, ext = name.rpartition(".")
        if kind_text not in {k.value for k in ListKind} or ext not in ("csv", "xlsx"):
            raise NotFound("Такого шаблона нет.")
        kind = ListKind(kind_text)
        body = template_csv(kind) if ext == "csv" else template_xlsx(kind)
        return Response(
            body,
            media_type="text/csv; charset=utf-8" if ext == "csv" else XLSX,
            headers={"Content-Disposition": f'attachment; filename="{kind.value}.{ext}"'},
        )

    @post(
        "/preview",
        guards=[page_school_lists],
        sync_to_thread=True,
        request_max_body_size=MAX_FILE_BYTES + 64 * 1024,
    )
    def preview(self, request: Request, db: Db, data: Upload) -> Template:
        """What the uploaded file would change; nothing is written to the school's lists."""
        principal = request.state.web.principal
        kind = kind_of(str(data.get("kind", "")))
        file = data.get("file")
        body = file.file.read() if isinstance(file, UploadFile) else b""
        name = file.filename if isinstance(file, UploadFile) else ""
        draft_id, result = upload(db, principal, kind, name, body, day_of(str(data.get("on", ""))))
        people.audit(db, principal, "list_preview", detail=f"{kind.value}: {name}"[:200])
        return page(
            request, "school_preview.html", spec=SPECS[kind], result=result, draft_id=draft_id,
            file_name=name, applied=False,
        )  # fmt: skip

    @post("/apply", guards=[page_school_lists], sync_to_thread=True)
    def apply(self, request: Request, db: Db, data: URLEncodedBody[dict[str, Any]]) -> Template:
        """Write the previewed list in one transaction, or nothing if it has become wrong."""
        principal = request.state.web.principal
        result = apply_draft(db, principal, str(data.get("draft", "")))
        people.audit(
            db, principal, "list_apply", detail=result.kind,
            outcome="allowed" if result.ok else "refused",
        )  # fmt: skip
        return page(
            request, "school_preview.html", spec=SPECS[ListKind(result.kind)], result=result,
            draft_id="", file_name="", applied=result.ok,
            status_code=200 if result.ok else 409,
        )  # fmt: skip

    @get("/movement", guards=[page_school_lists], sync_to_thread=True)
    def movement_book(self, request: Request, db: Db) -> Template:
        """Книга движения учащихся of the year, and the form for a new line."""
        directory, rows, places = movement.book(db, request.state.web.principal)
        return page(
            request, "movement.html", directory=directory, rows=rows, places=places, done=None
        )

    @post("/movement", guards=[page_school_lists], sync_to_thread=True)
    def movement_record(
        self, request: Request, db: Db, data: URLEncodedBody[dict[str, Any]]
    ) -> Template:
        """Arrived, left or moved, by the director's order; a leaver's transfer extract is
        offered at once."""
        principal = request.state.web.principal
        try:
            kind = movement.Movement(str(data.get("kind", "")))
        except ValueError:
            raise BadRequest("Выберите: прибыл, выбыл или переведён.") from None
        day = day_of(str(data.get("day", "")))
        if day is None:
            raise BadRequest("Укажите дату (ДД.ММ.ГГГГ).")
        order = movement.MovementOrder(
            kind=kind,
            student_id=str(data.get("student_id", "")),
            day=day,
            order_no=str(data.get("order_no", "")),
            place=str(data.get("place", "")),
            class_id=str(data.get("class_id", "")),
        )
        if kind is movement.Movement.TO_SCHOOL:  # «школа|класс» of the server's other schools
            school_id, _, class_id = str(data.get("destination", "")).partition("|")
            order = msgspec.structs.replace(order, school_id=school_id, class_id=class_id)
        done = movement.record(db, principal, order)
        people.audit(
            db, principal, "movement", student_id=done.student_id, detail=f"{kind.value} {day}"
        )
        directory, rows, places = movement.book(db, principal)
        return page(
            request, "movement.html", directory=directory, rows=rows, places=places, done=done
        )

    @get("/next-year", guards=[page_school_lists], sync_to_thread=True)
    def next_year_form(self, request: Request, db: Db) -> Template:
        """Every pupil of the year with the default outcome, to be edited before opening."""
        directory = people.directory_of(db, request.state.web.principal)
        return page(
            request, "next_year.html", directory=directory, plan=next_year.plan_outcomes(directory),
            titles=next_year.TITLES, opened=None,
        )  # fmt: skip

    @post("/next-year", guards=[page_school_lists], sync_to_thread=True)
    def next_year_open(
        self, request: Request, db: Db, data: URLEncodedBody[dict[str, Any]]
    ) -> Template:
        """Open the next year: periods, promotions, classes, load and class teachers."""
        principal = request.state.web.principal
        outcomes = {}
        for key, value in data.items():
            if key.startswith("o:"):
                try:
                    outcomes[key[2:]] = next_year.Outcome(str(value))
                except ValueError:
                    raise BadRequest("Неизвестное решение о переводе.") from None
        opened = next_year.open_next_year(db, principal, outcomes)
        people.audit(db, principal, "next_year", detail=opened.year.id)
        return page(
            request, "next_year.html", directory=None, plan=[], titles=next_year.TITLES,
            opened=opened,
        )  # fmt: skip
