"""The deputy's page for the school's scales and weights (issue 16): what the CLI commands
`scale` and `weight` do, with the same service and the same checks."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template

from server.deps import Db
from server.directory import scales as service
from server.errors import BadRequest
from server.web import people
from server.web.guards import page_administration
from server.web.render import page
from shared.grades import weight_for
from shared.model import SCALE_RU, Scale, WorkKind
from shared.scales import scale_of

Form = URLEncodedBody[dict[str, Any]]
KIND_NAMES = {
    WorkKind.REGULAR: "обычный урок",
    WorkKind.CONTROL: "контрольная работа",
    WorkKind.PRACTICAL: "практическая работа",
    WorkKind.LABORATORY: "лабораторная работа",
    WorkKind.INDEPENDENT: "самостоятельная работа",
}


class ScalesController(Controller):
    path = "/scales"

    @get("", guards=[page_administration], sync_to_thread=True)
    def scales(self, request: Request, db: Db) -> Template:
        directory = people.directory_of(db, request.state.web.principal)
        subjects = {s.id: s.name for s in directory.subjects}
        classes = sorted({c.grade for c in directory.classes})
        journals = [
            (
                next(c.name for c in directory.classes if c.id == j.class_id),
                subjects.get(j.subject_id, j.subject_id),
                scale_of(
                    directory.scales,
                    next(c.grade for c in directory.classes if c.id == j.class_id),
                    j.subject_id,
                ).name_ru,
            )
            for j in directory.journals
        ]
        return page(
            request,
            "scales.html",
            settings=[
                (
                    f"{s.grade} кл." if s.grade else "все параллели",
                    subjects.get(s.subject_id, s.subject_id) if s.subject_id else "все предметы",
                    SCALE_RU[s.scale] + (" с «+»/«−»" if s.modifiers else ""),
                )
                for s in directory.scales
            ],
            journals=journals,
            grades=classes,
            subjects=sorted(subjects.items(), key=lambda i: i[1]),
            scales=[(s.value, SCALE_RU[s]) for s in Scale],
            weights=[(k.value, KIND_NAMES[k], weight_for(k, directory.weights)) for k in WorkKind],
        )

    @post("", guards=[page_administration], sync_to_thread=True)
    def set_scale(self, request: Request, db: Db, data: Form) -> Redirect:
        grade = str(data.get("grade", "")).strip()
        if grade and not grade.isdigit():
            raise BadRequest("Параллель должна быть числом от 1 до 11.")
        service.set_scale(
            db,
            login=request.state.web.principal.login,
            scale=str(data.get("scale", "")),
            grade=int(grade) if grade else None,
            subject_id=str(data.get("subject_id", "")).strip() or None,
            modifiers=bool(data.get("modifiers")),
        )
        return Redirect(path="/scales", status_code=303)

    @post("/weight", guards=[page_administration], sync_to_thread=True)
    def set_weight(self, request: Request, db: Db, data: Form) -> Redirect:
        weight = str(data.get("weight", "")).strip()
        if not weight.isdigit():
            raise BadRequest("Вес отметки должен быть от 1 до 5.")
        service.set_weight(
            db,
            login=request.state.web.principal.login,
            work_kind=str(data.get("work_kind", "")),
            weight=int(weight),
        )
        return Redirect(path="/scales", status_code=303)
