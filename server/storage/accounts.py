"""Accounts and devices: the SQL behind login, tokens and revocation."""

from __future__ import annotations

import sqlite3

import msgspec

from shared.model import Role


class AccountRow(msgspec.Struct, frozen=True, kw_only=True):
    login: str
    password_hash: str
    role: Role
    person_id: str
    active: bool
    failed_logins: int
    locked_until: float


class DeviceRow(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    login: str
    name: str
    created_at: float
    last_seen: float | None
    revoked_at: float | None


def get_account(conn: sqlite3.Connection, login: str) -> AccountRow | None:
    row = conn.execute("SELECT * FROM accounts WHERE login = ?", (login,)).fetchone()
    if row is None:
        return None
    data = dict(row)
    data.pop("created_at")
    return msgspec.convert(data, AccountRow, strict=False)


def put_account(
    conn: sqlite3.Connection,
    *,
    login: str,
    password_hash: str,
    role: Role,
    person_id: str,
    now: float,
) -> None:
    conn.execute(
        "INSERT INTO accounts (login, password_hash, role, person_id, created_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(login) DO UPDATE SET "
        "password_hash = excluded.password_hash, role = excluded.role, "
        "person_id = excluded.person_id, active = 1",
        (login, password_hash, role.value, person_id, now),
    )


def record_login_success(conn: sqlite3.Connection, login: str, password_hash: str | None) -> None:
    conn.execute(
        "UPDATE accounts SET failed_logins = 0, locked_until = 0, "
        "password_hash = COALESCE(?, password_hash) WHERE login = ?",
        (password_hash, login),
    )


_DEVICE_COLUMNS = "SELECT id, login, name, created_at, last_seen, revoked_at FROM devices"


def add_device(
    conn: sqlite3.Connection,
    *,
    device_id: str,
    login: str,
    name: str,
    token_hash: str,
    now: float,
) -> None:
    conn.execute(
        "INSERT INTO devices (id, login, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        (device_id, login, name, token_hash, now),
    )


def reattach_device(
    conn: sqlite3.Connection,
    *,
    device_id: str,
    login: str,
    old_token_hash: str,
    token_hash: str,
    now: float,
) -> bool:
    """Give a device of `login` a new token and lift its revocation, if the caller proved it
    held the device's last token: a laptop logging in again keeps its record (and its CRDT
    client ids, bound to it). False when the device is not that one."""
    cur = conn.execute(
        "UPDATE devices SET token_hash = ?, revoked_at = NULL, last_seen = ? "
        "WHERE id = ? AND login = ? AND token_hash = ?",
        (token_hash, now, device_id, login, old_token_hash),
    )
    return cur.rowcount > 0


def device_by_token(
    conn: sqlite3.Connection, token_hash: str
) -> tuple[DeviceRow, AccountRow] | None:
    row = conn.execute(f"{_DEVICE_COLUMNS} WHERE token_hash = ?", (token_hash,)).fetchone()
    if row is None:
        return None
    device = msgspec.convert(dict(row), DeviceRow)
    account = get_account(conn, device.login)
    return (device, account) if account else None


def device_token_hash(conn: sqlite3.Connection, device_id: str) -> str | None:
    row = conn.execute(
        "SELECT token_hash FROM devices WHERE id = ? AND revoked_at IS NULL", (device_id,)
    ).fetchone()
    return row["token_hash"] if row else None


def touch_device(conn: sqlite3.Connection, device_id: str, now: float) -> None:
    conn.execute("UPDATE devices SET last_seen = ? WHERE id = ?", (now, device_id))


def list_devices(conn: sqlite3.Connection, login: str | None = None) -> list[DeviceRow]:
    where = " WHERE login = ?" if login else ""
    rows = conn.execute(
        f"{_DEVICE_COLUMNS}{where} ORDER BY created_at", (login,) if login else ()
    ).fetchall()
    return [msgspec.convert(dict(r), DeviceRow) for r in rows]


def get_device(conn: sqlite3.Connection, device_id: str) -> DeviceRow | None:
    row = conn.execute(f"{_DEVICE_COLUMNS} WHERE id = ?", (device_id,)).fetchone()
    return msgspec.convert(dict(row), DeviceRow) if row else None


def revoke_device(conn: sqlite3.Connection, device_id: str, now: float) -> bool:
    cur = conn.execute(
        "UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, device_id)
    )
    return cur.rowcount > 0


def revoke_devices_of(conn: sqlite3.Connection, login: str, now: float) -> int:
    """Cut off every device of an account (its password changed): how many were live."""
    cur = conn.execute(
        "UPDATE devices SET revoked_at = ? WHERE login = ? AND revoked_at IS NULL", (now, login)
    )
    return cur.rowcount
