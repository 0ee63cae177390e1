"""Web sessions for people: a random cookie (only its hash is stored), a CSRF token per session,
the limits on failed logins live in the database (server/storage/login_limits.py)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from dataclasses import dataclass

from server.auth.principal import Principal
from server.auth.service import principal_for_account
from server.storage import accounts
from server.storage import web as storage
from server.storage.db import transaction

COOKIE = "zh_session"
IDLE_SECONDS = 12 * 3600
WEB_DEVICE = "web"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class WebSession:
    id_hash: str
    csrf: str
    principal: Principal

    def csrf_ok(self, submitted: str | None) -> bool:
        return bool(submitted) and hmac.compare_digest(self.csrf, submitted or "")


def start(conn: sqlite3.Connection, login: str) -> str:
    """A new session for `login`; returns the cookie value (shown to the browser only)."""
    cookie = secrets.token_urlsafe(32)
    with transaction(conn):
        storage.add_session(conn, _hash(cookie), login, secrets.token_urlsafe(24), time.time())
    return cookie


def lookup(conn: sqlite3.Connection, cookie: str | None) -> WebSession | None:
    if not cookie:
        return None
    id_hash = _hash(cookie)
    row = storage.get_session(conn, id_hash)
    now = time.time()
    if row is None or now - row.last_seen > IDLE_SECONDS:
        return None
    account = accounts.get_account(conn, row.login)
    if account is None or not account.active:
        return None
    if now - row.last_seen > 60:
        storage.touch_session(conn, id_hash, now)
    return WebSession(id_hash, row.csrf, principal_for_account(conn, account, WEB_DEVICE))


def end(conn: sqlite3.Connection, session: WebSession) -> None:
    with transaction(conn):
        storage.drop_session(conn, session.id_hash)
