"""Login, device tokens and revocation: a lost laptop is cut off by revoking its device."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time

import msgspec

from server.auth import passwords
from server.auth.principal import Principal
from server.config import ServerConfig
from server.errors import AccessDenied, BadRequest, NotFound, TooManyAttempts, Unauthorized
from server.storage import accounts, login_limits
from server.storage import directory as directory_storage
from server.storage.db import transaction
from shared.model import STAFF_ROLES, Role


class DeviceToken(msgspec.Struct, frozen=True, kw_only=True):
    """Returned once at login; the server keeps only the token's hash."""

    token: str
    device_id: str
    login: str
    role: Role
    roles: tuple[Role, ...]
    person_id: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _roles(conn: sqlite3.Connection, account: accounts.AccountRow) -> tuple[Role, ...]:
    if account.role in STAFF_ROLES:
        return directory_storage.staff_roles(conn, account.person_id) or (account.role,)
    return (account.role,)


def create_account(
    conn: sqlite3.Connection, *, login: str, password: str, role: Role, person_id: str
) -> None:
    if len(password) < passwords.MIN_PASSWORD_LENGTH:
        raise BadRequest(
            f"Пароль слишком короткий: нужно не меньше {passwords.MIN_PASSWORD_LENGTH} символов."
        )
    if role is Role.DISTRICT and not directory_storage.district_schools(conn, person_id):
        raise BadRequest(
            f"Ни одна школа не относится к району «{person_id}»: для районного управления "
            "укажите район так, как он записан у школ."
        )
    with transaction(conn):
        accounts.put_account(
            conn,
            login=login,
            password_hash=passwords.hash_password(password),
            role=role,
            person_id=person_id,
            now=time.time(),
        )


LOCKED_RU = "Слишком много неудачных попыток входа. Попробуйте через 15 минут."
ADDRESS_LIMITED_RU = "Слишком много неудачных попыток входа с этого адреса. Подождите 10 минут."


def check_credentials(
    conn: sqlite3.Connection,
    config: ServerConfig,
    *,
    login: str,
    password: str,
    address: str = "?",
) -> accounts.AccountRow:
    """The account if the password is right; counts failures and locks after too many.

    Shared by device login (API) and the web login, so both lock the same account. Every
    path verifies one Argon2 hash (the account's, or a dummy one), so the time taken does not
    tell whether a login exists; a locked login and a missing one answer alike, and the
    counts live in the database, shared by every server process."""
    now = time.time()
    account = accounts.get_account(conn, login)
    stored_hash = account.password_hash if account is not None and account.active else None
    password_ok = passwords.verify_password(stored_hash, password)  # always one verification
    window = now - config.login_address_window_seconds
    if login_limits.address_failures(conn, address, window) >= config.login_address_failures:
        raise TooManyAttempts(ADDRESS_LIMITED_RU)
    if login_limits.login_locked(conn, login, now):
        raise TooManyAttempts(LOCKED_RU)
    if not password_ok or account is None:
        with transaction(conn):
            login_limits.record_failure(
                conn,
                login=login,
                address=address,
                now=now,
                max_failures=config.login_max_failures,
                lock_seconds=config.login_lock_seconds,
            )
        raise Unauthorized("Неверный логин или пароль.")
    rehash = (
        passwords.hash_password(password) if passwords.needs_rehash(account.password_hash) else None
    )
    with transaction(conn):
        accounts.record_login_success(conn, login, rehash)
        login_limits.clear_login(conn, login)
    return account


def principal_for_account(
    conn: sqlite3.Connection, account: accounts.AccountRow, device_id: str
) -> Principal:
    return Principal(
        login=account.login,
        role=account.role,
        roles=_roles(conn, account),
        person_id=account.person_id,
        school_id=directory_storage.school_of(conn, account.role, account.person_id),
        device_id=device_id,
    )


def login(
    conn: sqlite3.Connection,
    config: ServerConfig,
    *,
    login: str,
    password: str,
    device_name: str,
    address: str = "?",
    device_id: str = "",
    device_token: str = "",
) -> DeviceToken:
    """Check the password and register a new device with a fresh token; or, for a laptop
    logging in again (its token revoked by a password change or an administrator), give its
    own device record a fresh token when it shows the token it last held."""
    now = time.time()
    account = check_credentials(conn, config, login=login, password=password, address=address)
    token = secrets.token_urlsafe(32)
    with transaction(conn):
        if not (
            device_id
            and device_token
            and accounts.reattach_device(
                conn,
                device_id=device_id,
                login=login,
                old_token_hash=hash_token(device_token),
                token_hash=hash_token(token),
                now=now,
            )
        ):
            device_id = f"d-{secrets.token_hex(6)}"
            accounts.add_device(
                conn,
                device_id=device_id,
                login=login,
                name=device_name[:100] or "устройство",
                token_hash=hash_token(token),
                now=now,
            )
    return DeviceToken(
        token=token,
        device_id=device_id,
        login=login,
        role=account.role,
        roles=_roles(conn, account),
        person_id=account.person_id,
    )


def authenticate(conn: sqlite3.Connection, token: str) -> Principal | None:
    """The principal behind a bearer token, or None if it is unknown, revoked or disabled."""
    found = accounts.device_by_token(conn, hash_token(token))
    if found is None:
        return None
    device, account = found
    if device.revoked_at is not None or not account.active:
        return None
    if device.last_seen is None or time.time() - device.last_seen > 60:
        accounts.touch_device(conn, device.id, time.time())
    return Principal(
        login=account.login,
        role=account.role,
        roles=_roles(conn, account),
        person_id=account.person_id,
        school_id=directory_storage.school_of(conn, account.role, account.person_id),
        device_id=device.id,
    )


def revoke(conn: sqlite3.Connection, principal: Principal, device_id: str) -> None:
    """Cut a device off. Its owner or a system administrator may do it."""
    device = accounts.get_device(conn, device_id)
    if device is None:
        raise NotFound("Устройство не найдено.")
    if device.login != principal.login and not (
        principal.has(Role.SYSADMIN) and _same_school(conn, principal, device.login)
    ):
        raise AccessDenied("Отозвать можно только своё устройство.")
    with transaction(conn):
        accounts.revoke_device(conn, device_id, time.time())


def _same_school(conn: sqlite3.Connection, principal: Principal, login: str) -> bool:
    """Whether `login` belongs to the principal's school (a server without schools: yes)."""
    if principal.school_id is None:
        return True
    account = accounts.get_account(conn, login)
    return account is not None and principal.school_id == directory_storage.school_of(
        conn, account.role, account.person_id
    )


def list_devices(conn: sqlite3.Connection, principal: Principal) -> list[accounts.DeviceRow]:
    """One's own devices; for the system administrator, every device of their school."""
    if not principal.has(Role.SYSADMIN):
        return accounts.list_devices(conn, principal.login)
    logins: dict[str, bool] = {}
    return [
        d
        for d in accounts.list_devices(conn, None)
        if logins.setdefault(d.login, _same_school(conn, principal, d.login))
    ]


def device_mac_key(conn: sqlite3.Connection, device_id: str) -> bytes | None:
    """The key a device signs sync bundles with: the hash of its token, known to both sides."""
    token_hash = accounts.device_token_hash(conn, device_id)
    return bytes.fromhex(token_hash) if token_hash else None


def principal_for_device(conn: sqlite3.Connection, device_id: str) -> Principal:
    """The principal a (non-revoked) device acts for: used for USB bundles, which carry no token."""
    device = accounts.get_device(conn, device_id)
    account = accounts.get_account(conn, device.login) if device else None
    if device is None or account is None or device.revoked_at is not None or not account.active:
        raise Unauthorized("Устройство отключено или неизвестно.")
    return Principal(
        login=account.login,
        role=account.role,
        roles=_roles(conn, account),
        person_id=account.person_id,
        school_id=directory_storage.school_of(conn, account.role, account.person_id),
        device_id=device.id,
    )
