"""Rendering pages: the Jinja environment, the page helper and HTML error pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig

from server.errors import _HTTP_MESSAGES_RU, AppError
from server.web.static_files import static_url
from shared.model import Role

TEMPLATES = Path(__file__).parent / "templates"
logger = logging.getLogger("zhurnal.web")

ROLE_NAMES = {
    Role.TEACHER: "учитель",
    Role.DEPUTY: "заместитель директора",
    Role.DIRECTOR: "директор",
    Role.RECORDS_OFFICER: "документовед",
    Role.SYSADMIN: "технический специалист",
    Role.PARENT: "родитель",
    Role.STUDENT: "ученик",
    Role.DISTRICT: "управление образования",
}


PAGE_TZ = dt.timezone(dt.timedelta(hours=3))  # the pages' clock until schools have their own


def _date(value: object) -> str:
    if isinstance(value, float | int):
        value = dt.datetime.fromtimestamp(value, tz=PAGE_TZ)
        return f"{value:%d.%m.%Y %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%d.%m.%Y}"
    return str(value or "")


def template_config() -> TemplateConfig:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ru_date"] = _date
    env.globals["static_url"] = static_url
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(env))


def offline_key(session_hash: str) -> str:
    """The name under which a phone's service worker keeps this session's pages: one per
    session, so pages of one account are never shown to the next one on the same phone."""
    return hashlib.sha256(f"offline:{session_hash}".encode()).hexdigest()[:24]


def page(
    request: Request, name: str, status_code: int = 200, offline: bool = False, **context: object
) -> Template:
    """`offline`: a family page the phone may keep for reading without a link (static/sw.js);
    it carries the time its data is from, shown only when the saved copy is."""
    web = getattr(request.state, "web", None)
    user = web.principal if web else None
    headers = {"Cache-Control": "no-store"}
    if offline and web is not None and status_code == 200:
        headers["X-Offline-Key"] = offline_key(web.id_hash)
        context["offline_at"] = f"{dt.datetime.fromtimestamp(time.time(), tz=PAGE_TZ):%d.%m, %H:%M}"
    return Template(
        template_name=name,
        context={
            "user": user,
            "role_name": ROLE_NAMES.get(user.role, "") if user else "",
            "csrf": web.csrf if web else "",
            "Role": Role,
            **context,
        },
        status_code=status_code,
        headers=headers,
    )


def html_error(request: Request, exc: Exception) -> Response:
    """Errors on pages are pages: a Russian message, the right status, a way back."""
    if isinstance(exc, AppError) and exc.code == "login_required":
        return Redirect(path=f"/login?next={request.url.path}", status_code=303)
    if isinstance(exc, AppError) and exc.code == "password_change":
        return Redirect(path="/password", status_code=303)
    if isinstance(exc, AppError):
        status, message = exc.status, exc.message_ru
    elif isinstance(exc, HTTPException):
        status = exc.status_code
        message = _HTTP_MESSAGES_RU.get(status, "Ошибка запроса.")
        if status == 400 and exc.detail:
            message = f"Неверные данные в запросе: {exc.detail}"
    else:
        status, message = 500, _HTTP_MESSAGES_RU[500]
    if status >= 500:
        logger.error("page %s failed", request.url.path, exc_info=exc)
    return page(request, "error.html", status_code=status, message=message, status=status)
