"""Lists uploaded on the /school page: kept between the preview a person reads and their
«Применить», then compared again and written in one transaction."""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import time

from server.auth.principal import Principal
from server.errors import AccessDenied, BadRequest
from server.lists import ListKind, ListRefused, Preview, apply, preview
from server.lists.plan import parse_date
from server.storage import lists as storage
from server.storage.db import transaction

MAX_FILE_BYTES = 5 * 1024 * 1024  # a 2,000-pupil workbook is well under 1 MB


def _school(principal: Principal) -> str:
    if principal.school_id is None:
        raise AccessDenied("Ваша учётная запись не относится ни к одной школе.")
    return principal.school_id


def kind_of(value: str) -> ListKind:
    try:
        return ListKind(value)
    except ValueError:
        raise BadRequest("Выберите, какой это список.") from None


def day_of(value: str) -> dt.date | None:
    if not value:
        return None
    found = parse_date(value)
    if found is None:
        raise BadRequest("Дата, с которой действует список, — в формате ДД.ММ.ГГГГ.")
    return found


def upload(
    conn: sqlite3.Connection,
    principal: Principal,
    kind: ListKind,
    name: str,
    data: bytes,
    on: dt.date | None,
) -> tuple[str, Preview]:
    """Compare the file with the school and keep it for «Применить»; nothing else is written."""
    if not data:
        raise BadRequest("Выберите файл списка.")
    if len(data) > MAX_FILE_BYTES:
        raise BadRequest("Файл больше 5 МБ: это не похоже на список школы.")
    school_id = _school(principal)
    result = preview(conn, kind, data, school_id=school_id, on=on)
    draft_id = secrets.token_urlsafe(16)
    if result.ok:
        with transaction(conn):
            storage.save_draft(
                conn, draft_id, school_id, f"{kind.value}|{on or ''}", name[:200], data,
                principal.login, time.time(),
            )  # fmt: skip
    return draft_id, result


def apply_draft(conn: sqlite3.Connection, principal: Principal, draft_id: str) -> Preview:
    """Write the list this person previewed; refused whole if it has become wrong since."""
    found = storage.draft(conn, draft_id, principal.login)
    if found is None or found["school_id"] != _school(principal):
        raise BadRequest("Этот файл уже применён или устарел: загрузите его снова.")
    kind_text, _, on_text = found["kind"].partition("|")
    on = dt.date.fromisoformat(on_text) if on_text else None
    try:
        result = apply(
            conn, ListKind(kind_text), found["body"], school_id=found["school_id"], on=on
        )
    except ListRefused as refused:
        return refused.preview
    with transaction(conn):
        storage.drop_draft(conn, draft_id)
    return result
