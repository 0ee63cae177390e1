"""Route guards: every endpoint names the roles it admits."""

from __future__ import annotations

from collections.abc import Callable

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.auth.principal import Principal
from server.errors import AccessDenied
from shared.model import ADMINISTRATION, STAFF_ROLES, Role

Guard = Callable[[ASGIConnection, BaseRouteHandler], None]


def requires_roles(*roles: Role) -> Guard:
    allowed = frozenset(roles)

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        principal = connection.user
        if not isinstance(principal, Principal) or not allowed.intersection(principal.roles):
            raise AccessDenied("Недостаточно прав для этого действия.")

    guard.__name__ = "requires_" + "_or_".join(sorted(r.value for r in roles))
    return guard


requires_any_user = requires_roles(*Role)
requires_staff = requires_roles(*STAFF_ROLES)
requires_journal_staff = requires_roles(Role.TEACHER, Role.RECORDS_OFFICER, *ADMINISTRATION)
requires_sysadmin = requires_roles(Role.SYSADMIN)
requires_supervisors = requires_roles(Role.SYSADMIN, *ADMINISTRATION)
