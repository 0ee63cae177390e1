"""Accounts for a class in one go (000 §5.5, 002 §2.8.5): logins and one-time passwords for the
pupils and parents who have none, printed as slips the class teacher hands out. The password
exists only in that PDF: the database keeps its Argon2 hash, and the first login must change
it. The class teacher or the system administrator resets a forgotten one with a new slip."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import sqlite3
import time

import msgspec

from server.auth import passwords
from server.auth.principal import Principal
from server.errors import AccessDenied, BadRequest
from server.importer import slug
from server.printing import render_pdf
from server.storage import accounts as account_storage
from server.storage import slips as storage
from server.storage import web as web_storage
from server.storage.db import transaction
from server.web import people
from shared.model import Directory, Role, SchoolClass

# no 0/o, 1/l/i: the slip is read off paper and typed on a phone
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class Holder(msgspec.Struct, frozen=True, kw_only=True):
    """A pupil or parent of the class and their account, for the class's accounts page."""

    person_id: str
    name: str
    role: Role
    child: str  # the pupil's name for a parent; "" for a pupil
    login: str  # "" without an account
    must_change: bool


class Slip(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    role: str  # Russian
    login: str
    password: str


def one_time_password() -> str:
    """12 letters and digits in three groups (about 59 bits): typed once, then changed."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _class(
    conn: sqlite3.Connection, principal: Principal, directory: Directory, class_id: str
) -> SchoolClass:
    """The class teacher and the administration of the class, or the system administrator."""
    if principal.has(Role.SYSADMIN):
        found = next((c for c in directory.classes if c.id == class_id), None)
        if found is not None:
            return found
    if principal.has(Role.TEACHER, Role.DEPUTY, Role.DIRECTOR):
        return people.class_for_staff(conn, principal, directory, class_id)
    raise AccessDenied("Выдавать логины этого класса может его классный руководитель.")


def holders(conn: sqlite3.Connection, principal: Principal, class_id: str) -> list[Holder]:
    directory = people.directory_of(conn, principal)
    _class(conn, principal, directory, class_id)
    return _holders(conn, directory, class_id)


def _holders(conn: sqlite3.Connection, directory: Directory, class_id: str) -> list[Holder]:
    roster = directory.class_roster(class_id, dt.date.today()) or directory.class_roster(class_id)
    parents = web_storage.parents_of(conn, [s.id for s in roster])
    logins = storage.logins_of(conn, [s.id for s in roster] + [p["id"] for p in parents])
    pending = storage.pending(conn, list(logins.values()))
    out = []
    for pupil in roster:
        out.append(
            Holder(
                person_id=pupil.id,
                name=pupil.full_name,
                role=Role.STUDENT,
                child="",
                login=logins.get(pupil.id, ""),
                must_change=logins.get(pupil.id) in pending,
            )
        )
        for parent in (p for p in parents if p["student_id"] == pupil.id):
            name = " ".join(x for x in (parent["last_name"], parent["first_name"]) if x)
            name = f"{name} {parent['patronymic']}".strip()
            out.append(
                Holder(
                    person_id=parent["id"],
                    name=name,
                    role=Role.PARENT,
                    child=pupil.full_name,
                    login=logins.get(parent["id"], ""),
                    must_change=logins.get(parent["id"]) in pending,
                )
            )
    return out


def _new_login(conn: sqlite3.Connection, name: str, planned: set[str]) -> str:
    parts = name.split()
    base = slug(parts[0]).replace("-", "")[:20] or "user"
    initials = "".join(slug(p)[:1] for p in parts[1:3])
    login = f"{base}.{initials}" if initials else base
    candidate, n = login, 1
    while candidate in planned or storage.taken(conn, candidate):
        n += 1
        candidate = f"{login}{n}"
    planned.add(candidate)
    return candidate


def _role_ru(holder: Holder) -> str:
    return "ученик" if holder.role is Role.STUDENT else f"родитель: {holder.child}"


def issue(
    conn: sqlite3.Connection, principal: Principal, class_id: str
) -> tuple[SchoolClass, list[Slip]]:
    """Accounts for every pupil and parent of the class who has none; existing accounts are
    left alone (their passwords are never shown again — reset one to print a new slip)."""
    directory = people.directory_of(conn, principal)
    school_class = _class(conn, principal, directory, class_id)
    now = time.time()
    slips, planned, done = [], set(), set()
    with transaction(conn):
        for holder in _holders(conn, directory, class_id):
            if holder.login or holder.person_id in done:
                continue
            done.add(holder.person_id)
            login, password = _new_login(conn, holder.name, planned), one_time_password()
            account_storage.put_account(
                conn,
                login=login,
                password_hash=passwords.hash_password(password),
                role=holder.role,
                person_id=holder.person_id,
                now=now,
            )
            storage.require_change(conn, login, principal.login, now)
            slips.append(
                Slip(name=holder.name, role=_role_ru(holder), login=login, password=password)
            )
    return school_class, slips


def reset(
    conn: sqlite3.Connection, principal: Principal, class_id: str, login: str
) -> tuple[SchoolClass, list[Slip]]:
    """A new one-time password for a pupil or parent of the class: the old one stops working,
    their sessions and device tokens end, and the next login must change it."""
    directory = people.directory_of(conn, principal)
    school_class = _class(conn, principal, directory, class_id)
    holder = next((h for h in _holders(conn, directory, class_id) if h.login == login), None)
    if holder is None or not login:
        raise BadRequest("Такой учётной записи среди учеников и родителей класса нет.")
    password, now = one_time_password(), time.time()
    with transaction(conn):
        web_storage.set_password_hash(conn, login, passwords.hash_password(password))
        web_storage.drop_sessions_of(conn, login)
        account_storage.revoke_devices_of(conn, login, now)
        storage.require_change(conn, login, principal.login, now)
    return school_class, [
        Slip(name=holder.name, role=_role_ru(holder), login=login, password=password)
    ]


def slips_pdf(
    directory_school: str, school_class: SchoolClass, slips: list[Slip], site: str
) -> bytes:
    """The sheet of slips to cut and hand out, in Russian."""
    return render_pdf(
        "account_slips",
        {
            "school": directory_school,
            "class_name": f"{school_class.grade}{school_class.letter}",
            "printed": f"{dt.date.today():%d.%m.%Y}",
            "site": site,
            "slips": [msgspec.to_builtins(s) for s in slips],
        },
    )


def valid_login(text: str) -> str:
    if not re.fullmatch(r"[a-z0-9._-]{1,64}", text):
        raise BadRequest("Неверный логин.")
    return text
