"""Page guards: every page names the roles it admits; a POST must carry the session's CSRF token.

The session is looked up here and left on `connection.state.web` for the handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.errors import AccessDenied, AppError
from server.storage import slips
from server.storage.db import connect
from server.web import session as sessions
from shared.model import ADMINISTRATION, Role

PageGuard = Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]


class LoginRequired(AppError):
    status = 401
    code = "login_required"


class CsrfFailed(AppError):
    status = 403
    code = "csrf"


class PasswordChangeRequired(AppError):
    """The password came on a paper slip: every page waits until it is changed."""

    status = 303
    code = "password_change"


async def _session(connection: ASGIConnection) -> sessions.WebSession:
    conn = connect(connection.app.state.config.database)
    try:
        found = sessions.lookup(conn, connection.cookies.get(sessions.COOKIE))
        must_change = found is not None and slips.change_required(conn, found.principal.login)
    finally:
        conn.close()
    if found is None:
        raise LoginRequired("Войдите в систему.")
    connection.state.web = found
    if must_change and connection.scope["path"] not in ("/password", "/logout"):
        raise PasswordChangeRequired("Задайте свой пароль вместо выданного.")
    if connection.scope["method"] == "POST":
        form = await connection.form()  # type: ignore[attr-defined]  # cached for the handler
        if not found.csrf_ok(form.get("csrf")):
            raise CsrfFailed("Форма устарела или отправлена не с этой страницы. Обновите страницу.")
    return found


def page_roles(*roles: Role) -> PageGuard:
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        found = await _session(connection)
        if not allowed.intersection(found.principal.roles):
            raise AccessDenied("Эта страница вам недоступна.")

    guard.__name__ = "page_" + "_or_".join(sorted(r.value for r in roles))
    return guard


page_any_user = page_roles(*Role)
page_family = page_roles(Role.PARENT, Role.STUDENT)
page_class_staff = page_roles(Role.TEACHER, *ADMINISTRATION)
page_administration = page_roles(*ADMINISTRATION)
page_deputy = page_roles(Role.DEPUTY)
page_district = page_roles(Role.DISTRICT, *ADMINISTRATION)
page_audit = page_roles(Role.DIRECTOR, Role.RECORDS_OFFICER)
