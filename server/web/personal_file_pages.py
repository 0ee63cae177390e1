"""Personal files (личные дела): the year marks of every year for the class teacher, the
administration and the records officer; a printed page per year to sign (002 §2.9.4)."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from server.archive import personal_file
from server.deps import Db
from server.errors import NotFound
from server.printing import render_pdf
from server.storage import lists as lists_storage
from server.web import people
from server.web.guards import page_roles
from server.web.pupil_access import class_name_of, led_student_ids, staff_student
from server.web.render import page
from shared.columns import result_text
from shared.model import Role

page_personal_files = page_roles(Role.TEACHER, Role.DEPUTY, Role.DIRECTOR, Role.RECORDS_OFFICER)


class PersonalFileController(Controller):
    path = "/personal-files"

    @get("/", guards=[page_personal_files], sync_to_thread=True)
    def index(self, request: Request, db: Db) -> Template:
        principal = request.state.web.principal
        directory = people.directory_of(db, request.state.web.principal)
        if principal.is_administration or principal.has(Role.RECORDS_OFFICER):
            ids = {s.id for s in directory.students} | personal_file.students_with_files(db)
            # pupils who left keep their file; the directory still holds their names
        else:
            ids = led_student_ids(principal, directory)
        students = [s for s in directory.students if s.id in ids]
        return page(
            request,
            "personal_files.html",
            students=[(s, class_name_of(directory, s.id)) for s in students],
        )

    @get("/{student_id:str}", guards=[page_personal_files], sync_to_thread=True)
    def show(self, request: Request, db: Db, student_id: FromPath[str]) -> Template:
        principal = request.state.web.principal
        directory = people.directory_of(db, request.state.web.principal)
        student = staff_student(
            db, principal, directory, student_id, "personal_file", records_officer=True
        )
        people.audit(db, principal, "personal_file", student_id=student_id)
        years = personal_file.pages(db, student_id)
        subjects = sorted({s for y in years for s, _ in y.marks})
        table = [
            (subject, [", ".join(str(v) for s, v in y.marks if s == subject) for y in years])
            for subject in subjects
        ]
        return page(
            request,
            "personal_file.html",
            student=student,
            class_name=class_name_of(directory, student_id),
            years=years,
            table=table,
            open_year=directory.year if directory.closure is None else None,
            incoming=[  # «н/а», «зач» in words, never the 0 they are kept as
                m | {"text": result_text(m["value"], m["special"])}
                for m in lists_storage.incoming(db, student_id)
            ],
        )

    @get("/{student_id:str}/{year_id:str}/pdf", guards=[page_personal_files], sync_to_thread=True)
    def year_pdf(
        self, request: Request, db: Db, student_id: FromPath[str], year_id: FromPath[str]
    ) -> Response:
        """One year of the personal file, printed, with the class teacher's signature line."""
        principal = request.state.web.principal
        directory = people.directory_of(db, request.state.web.principal)
        student = staff_student(
            db, principal, directory, student_id, "personal_file", records_officer=True
        )
        year = next((y for y in personal_file.pages(db, student_id) if y.year_id == year_id), None)
        if year is None:
            raise NotFound("В личном деле нет отметок за этот учебный год.")
        people.audit(db, principal, "personal_file_pdf", student_id=student_id, detail=year_id)
        teachers = personal_file.class_teacher_names(db, year.class_ids)
        data = {
            "title": "Личное дело обучающегося: годовые отметки",
            "school": directory.school.name,
            "student": student.full_name,
            "birth_date": f"{student.birth_date:%d.%m.%Y}" if student.birth_date else "",
            "year": year.year_name,
            "class_name": ", ".join(year.class_names),
            "header": ["Предмет", "Годовая отметка"],
            "rows": [[s, str(v)] for s, v in year.marks],
            "class_teacher": ", ".join(teachers),
            "printed": dt.date.today().strftime("%d.%m.%Y"),
        }
        return Response(
            render_pdf("personal_file", data),
            media_type="application/pdf",
            headers={
                "Content-Disposition": (
                    f'inline; filename="personal-file-{student_id}-{year_id}.pdf"'
                )
            },
        )
