"""/classes/{class_id}/accounts: the class teacher (or the system administrator) hands out
logins and one-time passwords to the class's pupils and parents, and resets a forgotten one."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Template

from server.deps import Db
from server.lists import accounts
from server.web import people
from server.web.guards import page_roles
from server.web.render import page
from shared.model import Role

page_account_issuers = page_roles(Role.TEACHER, Role.DEPUTY, Role.DIRECTOR, Role.SYSADMIN)
Form = URLEncodedBody[dict[str, Any]]


def _pdf(request: Request, db: Db, school_class, slips, name: str) -> Response:
    directory = people.directory_of(db, request.state.web.principal)
    site = f"{request.url.scheme}://{request.url.netloc}"
    body = accounts.slips_pdf(directory.school.name, school_class, slips, site)
    return Response(
        body,
        media_type="application/pdf",
        status_code=200,
        headers={
            "Content-Disposition": f'inline; filename="{name}.pdf"',
            "Cache-Control": "no-store",  # the passwords exist only in this answer
        },
    )


class ClassAccountsController(Controller):
    path = "/classes/{class_id:str}/accounts"

    @get("/", guards=[page_account_issuers], sync_to_thread=True)
    def index(self, request: Request, db: Db, class_id: FromPath[str]) -> Template:
        holders = accounts.holders(db, request.state.web.principal, class_id)
        return page(request, "class_accounts.html", class_id=class_id, holders=holders)

    @post("/", guards=[page_account_issuers], sync_to_thread=True)
    def issue(self, request: Request, db: Db, class_id: FromPath[str]) -> Response | Template:
        """Logins for everyone of the class without one, as a PDF sheet of slips."""
        principal = request.state.web.principal
        school_class, slips = accounts.issue(db, principal, class_id)
        people.audit(db, principal, "accounts_issued", class_id=class_id, detail=str(len(slips)))
        if not slips:
            holders = accounts.holders(db, principal, class_id)
            message = "У всех учеников и родителей класса уже есть учётные записи."
            return page(request, "class_accounts.html", class_id=class_id, holders=holders,
                        message=message)  # fmt: skip
        return _pdf(request, db, school_class, slips, f"logins-{class_id}")

    @post("/reset", guards=[page_account_issuers], sync_to_thread=True)
    def reset(self, request: Request, db: Db, class_id: FromPath[str], data: Form) -> Response:
        """A new one-time password for one pupil or parent, on a slip of its own."""
        principal = request.state.web.principal
        login = accounts.valid_login(str(data.get("login", "")))
        school_class, slips = accounts.reset(db, principal, class_id, login)
        people.audit(db, principal, "password_reset", class_id=class_id, detail=login)
        return _pdf(request, db, school_class, slips, f"login-{login}")
