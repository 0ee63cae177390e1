"""The transfer extract page (001 §4.7): the class teacher or the administration prepares, for
a pupil who moves to another school, the PDF to sign and stamp and the file to hand over."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from server.deps import Config, Db
from server.errors import BadRequest, NotFound
from server.printing import render_pdf
from server.web import people, transfer
from server.web.guards import page_class_staff
from server.web.pupil_access import class_name_of
from server.web.render import page
from shared.model import Directory, Role


def archive_key_path(database: Path) -> Path:
    """Where `journal-server archive-key init` puts the school's key by default."""
    return Path(database).with_name("archive-key.pem")


def director_name(directory: Directory) -> str:
    found = next((s for s in directory.staff if Role.DIRECTOR in s.roles), None)
    return found.short_name if found else ""


class TransferController(Controller):
    @get(
        "/classes/{class_id:str}/transfer/{student_id:str}",
        guards=[page_class_staff],
        sync_to_thread=True,
    )
    def extract(
        self,
        request: Request,
        db: Db,
        config: Config,
        class_id: FromPath[str],
        student_id: FromPath[str],
        format: FromQuery[str] = "html",
    ) -> Template | Response:
        if format not in ("html", "pdf", "json"):
            raise BadRequest("Формат: html, pdf или json.")
        principal = request.state.web.principal
        directory = people.directory_of(db, request.state.web.principal)
        people.class_for_staff(db, principal, directory, class_id)
        if student_id not in {s.id for s in directory.class_roster(class_id)}:
            people.audit(
                db, principal, "transfer_extract", student_id=student_id, outcome="refused"
            )
            raise NotFound("Такого ученика в классе нет.")
        people.audit(
            db,
            principal,
            "transfer_extract",
            student_id=student_id,
            class_id=class_id,
            detail=format,
        )
        student = next(s for s in directory.students if s.id == student_id)
        extract = transfer.build(
            db, directory, student, class_name_of(directory, student_id), dt.date.today()
        )
        if format == "pdf":
            return Response(
                render_pdf(
                    "transfer_extract", transfer.pdf_data(extract, director_name(directory))
                ),
                media_type="application/pdf",
                headers={"Content-Disposition": f'inline; filename="transfer-{student_id}.pdf"'},
            )
        if format == "json":
            body, _ = transfer.signed_file(extract, archive_key_path(config.database))
            return Response(
                body,
                media_type="application/json",
                headers={
                    "Content-Disposition": f'attachment; filename="transfer-{student_id}.json"'
                },
            )
        return page(
            request,
            "transfer.html",
            extract=extract,
            student=student,
            class_id=class_id,
            marks=transfer.by_subject(extract),
            signed=archive_key_path(config.database).is_file(),
        )
