"""The archive page: build a year's (or one journal's) package and watch its progress bar."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from server.archive import jobs, june, keys, retention, schedule
from server.archive.closing import CLOSERS
from server.deps import Config, Db
from server.errors import BadRequest, NotFound
from server.storage import archive as archive_storage
from server.web.guards import page_roles
from server.web.people import directory_of
from server.web.render import page
from shared.groups import section_title
from shared.model import parse_journal_id

Form = URLEncodedBody[dict[str, Any]]
page_archive = page_roles(*CLOSERS)


def _day(value: str | None) -> dt.date:
    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadRequest("Дата — в формате ГГГГ-ММ-ДД.") from None


def _folder(config: Config, school_id: str) -> Path:
    """Each school's packages form their own chain, in their own folder."""
    return config.archive_folder / school_id


def _key_path(config: Config, school_id: str) -> Path:
    return keys.school_key_path(config.archive_key_path, school_id)


def _job_year(job: jobs.ArchiveJob) -> str | None:
    return parse_journal_id(job.journal_id)[0] if job.journal_id else job.year_id


def _key_fingerprint(path: Path) -> str | None:
    public = path.with_name(path.name + ".pub")
    if not path.exists():
        return None
    try:
        return keys.fingerprint(keys.load_public(public)) if public.exists() else "есть"
    except keys.ArchiveKeyError:
        return "есть"


class ArchivePagesController(Controller):
    @get("/archive", guards=[page_archive], sync_to_thread=True)
    def archive(
        self, request: Request, db: Db, config: Config, on: FromQuery[str | None] = None
    ) -> Template:
        """Packages, builds under way, and what is due for destruction on a day (today)."""
        due_on = _day(on)
        directory = directory_of(db, request.state.web.principal)
        school = directory.school.id
        years = db.execute(
            "SELECT y.id, y.name, c.closed_on FROM years y LEFT JOIN year_closures c "
            "ON c.year_id = y.id WHERE y.school_id = ? ORDER BY y.starts DESC",
            (school,),
        ).fetchall()
        ours = {y["id"] for y in years}
        classes = {c.id: c.name for c in directory.classes}
        journals = sorted(
            (
                (j.id, f"{classes.get(j.class_id, j.class_id)} — {section_title(directory, j)}")
                for j in directory.journals
            ),
            key=lambda pair: pair[1],
        )
        return page(
            request,
            "archive.html",
            years=years,
            journals=journals,
            packages=[p for p in reversed(archive_storage.packages(db)) if p["year_id"] in ours],
            jobs=[j for j in jobs.recent(db, limit=50) if _job_year(j) in ours][:10],
            due=retention.due(db, _folder(config, school), due_on),
            due_on=due_on,
            may_destroy=bool(
                retention.RECORDS_ROLES.intersection(request.state.web.principal.roles)
            ),
            fingerprint=_key_fingerprint(_key_path(config, school)),
            folder=_folder(config, school),
            failures=schedule.failures(db, school),
            monthly=schedule.monthly(db, school),
        )

    @post("/archive/schedule", guards=[page_archive], sync_to_thread=True)
    def set_schedule(self, request: Request, db: Db, data: Form) -> Redirect:
        """The school's monthly packages on or off (a period's package is always built)."""
        value = str(data.get("monthly") or "")
        if value not in ("on", "off"):
            raise BadRequest("Выберите: ежемесячные пакеты включены или выключены.")
        directory = directory_of(db, request.state.web.principal)
        schedule.set_monthly(
            db, directory.school.id, value == "on", request.state.web.principal.login
        )
        return Redirect(path="/archive", status_code=303)

    @get("/archive/june", guards=[page_archive], sync_to_thread=True)
    def june_page(self, request: Request, db: Db, on: FromQuery[str | None] = None) -> Template:
        """The paperwork of June: each journal complete, printed, signed, archived — by 30 June."""
        directory = directory_of(db, request.state.web.principal)
        today = _day(on)
        rows = june.standings(db, directory)
        return page(
            request,
            "archive_june.html",
            year=directory.year,
            rows=rows,
            deadline=june.deadline(directory),
            today=today,
            late=today > june.deadline(directory),
            left=sum(not r.done for r in rows),
        )

    @post("/archive/june/signed", guards=[page_archive], sync_to_thread=True)
    def signed(self, request: Request, db: Db, data: Form) -> Redirect:
        """Record that the printed journal was signed and sealed on paper."""
        journal_id = str(data.get("journal_id") or "")
        if not journal_id or len(journal_id) > 200:
            raise BadRequest("Выберите журнал.")
        june.record_signed(
            db,
            login=request.state.web.principal.login,
            journal_id=journal_id,
            signed_on=_day(str(data.get("signed_on") or "")),
        )
        return Redirect(path="/archive/june", status_code=303)

    @post("/archive/build", guards=[page_archive], sync_to_thread=True)
    def build(self, request: Request, db: Db, config: Config, data: Form) -> Redirect:
        """Start a build; the package is signed with the school's key and joins the chain."""
        year_id = str(data.get("year_id") or "") or None
        journal_id = str(data.get("journal_id") or "") or None
        if not year_id and not journal_id:
            raise BadRequest("Выберите учебный год или журнал.")
        directory = directory_of(db, request.state.web.principal)
        if journal_id and not any(j.id == journal_id for j in directory.journals):
            raise BadRequest("Нет такого журнала.")
        if (
            year_id
            and not db.execute(
                "SELECT 1 FROM years WHERE id = ? AND school_id = ?", (year_id, directory.school.id)
            ).fetchone()
        ):
            raise BadRequest("Нет такого учебного года.")
        job_id = jobs.start(
            config.database,
            out_dir=_folder(config, directory.school.id),
            key_path=_key_path(config, directory.school.id),
            login=request.state.web.principal.login,
            year_id=None if journal_id else year_id,
            journal_id=journal_id,
        )
        return Redirect(path=f"/archive/jobs/{job_id}", status_code=303)

    @get("/archive/jobs/{job_id:int}", guards=[page_archive], sync_to_thread=True)
    def job(self, request: Request, db: Db, job_id: FromPath[int]) -> Template:
        """One build's progress bar, or its outcome; another school's jobs are not found."""
        found = jobs.get(db, job_id)
        directory = directory_of(db, request.state.web.principal)
        if (
            found is None
            or not db.execute(
                "SELECT 1 FROM years WHERE id = ? AND school_id = ?",
                (_job_year(found), directory.school.id),
            ).fetchone()
        ):
            raise NotFound("Такого задания нет.")
        return page(request, "archive_job.html", job=found)

    @post("/archive/act", guards=[page_roles(*retention.RECORDS_ROLES)], sync_to_thread=True)
    def act(self, request: Request, db: Db, config: Config, data: Form) -> Response:
        """Draft the destruction act of what is due (000 §7.11): a PDF to sign on paper."""
        number = str(data.get("number") or "").strip()
        if not number or len(number) > 40:
            raise BadRequest("Укажите номер акта (до 40 знаков).")
        directory = directory_of(db, request.state.web.principal)
        _, pdf, _ = retention.draft_act(
            db,
            _folder(config, directory.school.id),
            number=number,
            login=request.state.web.principal.login,
            on=_day(str(data.get("on") or "")),
        )
        safe = re.sub(r"[^0-9A-Za-z_-]", "_", number)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="act-{safe}.pdf"'},
        )
