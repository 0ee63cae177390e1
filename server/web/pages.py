"""Login, logout, change of password and the home page."""

from __future__ import annotations

import secrets
import time
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from server.auth import passwords
from server.auth.client import client_address, over_tls
from server.auth.service import check_credentials
from server.deps import Config, Db
from server.errors import AppError
from server.storage import accounts, slips
from server.storage import web as storage
from server.storage.db import transaction
from server.web import session as sessions
from server.web.guards import page_any_user
from server.web.render import page
from shared.model import ADMINISTRATION, Role

Form = URLEncodedBody[dict[str, Any]]
LOGIN_CSRF = "zh_login_csrf"


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") else "/"


def _session_cookie(value: str, secure: bool, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=sessions.COOKIE,
        value=value,
        httponly=True,
        samesite="strict",
        path="/",
        max_age=max_age,
        secure=secure,
    )


def _login_csrf_cookie(value: str, secure: bool) -> Cookie:
    return Cookie(
        key=LOGIN_CSRF, value=value, httponly=True, samesite="strict", path="/login", secure=secure
    )


def home_links(roles: tuple[Role, ...]) -> list[tuple[str, str]]:
    links = []
    if Role.PARENT in roles or Role.STUDENT in roles:
        links.append(("/diary", "Дневник"))
        links.append(("/portfolio", "Портфолио достижений"))
    if Role.TEACHER in roles or any(r in ADMINISTRATION for r in roles):
        links.append(("/classes", "Мои классы (классное руководство)"))
    if any(r in ADMINISTRATION for r in roles):
        links.append(("/reports", "Отчёты"))
    if any(r in ADMINISTRATION for r in roles):
        links.append(("/gifted", "Достижения обучающихся (одарённые дети)"))
    if (
        Role.TEACHER in roles
        or Role.RECORDS_OFFICER in roles
        or any(r in ADMINISTRATION for r in roles)
    ):
        links.append(("/personal-files", "Личные дела (годовые отметки)"))
    if Role.SYSADMIN in roles or any(r in ADMINISTRATION for r in roles):
        links.append(("/school", "Списки школы: ученики, родители, сотрудники, нагрузка"))
    if Role.DEPUTY in roles:
        links.append(("/periods", "Закрытие учебных периодов"))
    if any(r in ADMINISTRATION for r in roles):
        links.append(("/scales", "Шкалы оценивания и веса отметок"))
    if Role.DISTRICT in roles or any(r in ADMINISTRATION for r in roles):
        links.append(("/district", "Сводные показатели без имён"))
    if Role.RECORDS_OFFICER in roles or any(r in ADMINISTRATION for r in roles):
        links.append(("/archive", "Архив: пакеты учебного года и журналов"))
    if Role.DIRECTOR in roles or Role.RECORDS_OFFICER in roles:
        links.append(("/audit", "Журнал просмотров персональных данных"))
    return links


class PagesController(Controller):
    @get("/login", sync_to_thread=False)
    def login_form(
        self, request: Request, config: Config, next: FromQuery[str | None] = None
    ) -> Template:
        token = secrets.token_urlsafe(16)
        response = page(request, "login.html", login_csrf=token, next=_safe_next(next), login="")
        response.cookies.append(_login_csrf_cookie(token, over_tls(request, config)))
        return response

    @post("/login", sync_to_thread=True)
    def login(self, request: Request, data: Form, db: Db, config: Config) -> Template | Redirect:
        login = str(data.get("login", "")).strip()[:100]
        next_url = _safe_next(data.get("next"))
        token = secrets.token_urlsafe(16)

        def again(message: str, status: int) -> Template:
            response = page(
                request,
                "login.html",
                status,
                login_csrf=token,
                next=next_url,
                message=message,
                login=login,
            )
            response.cookies.append(_login_csrf_cookie(token, over_tls(request, config)))
            return response

        expected = request.cookies.get(LOGIN_CSRF, "")
        if not expected or not secrets.compare_digest(expected, str(data.get("csrf", ""))):
            return again("Форма устарела. Введите логин и пароль ещё раз.", 403)
        try:
            account = check_credentials(
                db,
                config,
                login=login,
                password=str(data.get("password", "")),
                address=client_address(request, config),
            )
        except AppError as exc:
            return again(exc.message_ru, exc.status)
        cookie = sessions.start(db, account.login)
        response = Redirect(path=next_url, status_code=303)
        response.cookies.append(_session_cookie(cookie, over_tls(request, config)))
        return response

    @post("/logout", guards=[page_any_user], sync_to_thread=True)
    def logout(self, request: Request, db: Db, config: Config) -> Redirect:
        sessions.end(db, request.state.web)
        response = Redirect(path="/login", status_code=303)
        response.cookies.append(_session_cookie("", over_tls(request, config), max_age=0))
        return response

    @get("/", guards=[page_any_user], sync_to_thread=False)
    def home(self, request: Request) -> Template:
        return page(request, "home.html", links=home_links(request.state.web.principal.roles))

    @get("/password", guards=[page_any_user], sync_to_thread=True)
    def password_form(self, request: Request, db: Db) -> Template:
        first = slips.change_required(db, request.state.web.principal.login)
        return page(request, "password.html", first=first)

    @post("/password", guards=[page_any_user], sync_to_thread=True)
    def change_password(self, request: Request, data: Form, db: Db, config: Config) -> Template:
        web = request.state.web
        new, again = str(data.get("new", "")), str(data.get("again", ""))
        try:
            check_credentials(
                db,
                config,
                login=web.principal.login,
                password=str(data.get("old")),
                address=client_address(request, config),
            )
        except AppError as exc:
            return page(request, "password.html", exc.status, message=exc.message_ru)
        if new != again:
            return page(request, "password.html", 400, message="Новые пароли не совпадают.")
        if len(new) < passwords.MIN_PASSWORD_LENGTH:
            minimum = passwords.MIN_PASSWORD_LENGTH
            message = f"Пароль слишком короткий: нужно не меньше {minimum} символов."
            return page(request, "password.html", 400, message=message)
        with transaction(db):
            storage.set_password_hash(db, web.principal.login, passwords.hash_password(new))
            storage.drop_sessions_of(db, web.principal.login, keep=web.id_hash)
            slips.changed(db, web.principal.login)
            # a laptop that knew the old password asks for the new one (its entries stay)
            accounts.revoke_devices_of(db, web.principal.login, time.time())
        message = "Пароль изменён. На ноутбуках и других устройствах войдите с новым паролем."
        return page(request, "password.html", message=message, ok=True)
