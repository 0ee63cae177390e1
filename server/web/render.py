"""Rendering pages: the Jinja environment, the page helper and HTML error pages."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig

from server.errors import _HTTP_MESSAGES_RU, AppError
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


def _date(value: object) -> str:
    if isinstance(value, float | int):
        value = dt.datetime.fromtimestamp(value, tz=dt.timezone(dt.timedelta(hours=3)))
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
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(env))


def page(request: Request, name: str, status_code: int = 200, **context: object) -> Template:
    web = getattr(request.state, "web", None)
    user = web.principal if web else None
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
        headers={"Cache-Control": "no-store"},
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
