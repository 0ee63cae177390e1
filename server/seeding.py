"""Loading a whole school (the demo) into the database through the same sync path teachers use,
so the demo's journals are checked by the same rules and consolidated the same way."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from functools import partial
from itertools import groupby

from server.auth import passwords
from server.auth.principal import Principal
from server.config import ServerConfig
from server.storage import accounts
from server.storage import directory as directory_storage
from server.storage.db import transaction
from server.sync.directory_cache import DirectoryCache
from server.sync.documents import DocumentCache
from server.sync.service import SyncService
from shared.hlc import parse_stamp
from shared.journal import JournalDoc
from shared.model import Directory, JournalEvent, Parent, ParentLink, Role
from shared.wire import JournalPush, Outcome, SyncRequest


def load_directory(
    conn: sqlite3.Connection,
    directory: Directory,
    parents: tuple[Parent, ...],
    links: tuple[ParentLink, ...],
) -> None:
    """Write a school's directory beside any schools already held; refused (ValueError, nothing
    written) if one of its ids belongs to another school."""
    rows = [
        directory.school,
        directory.year,
        *directory.periods,
        *directory.classes,
        *directory.subjects,
        *directory.students,
        *directory.memberships,
    ]
    clashes = directory_storage.foreign_rows(
        conn, directory.school.id, [*rows, *directory.staff, *directory.teaching]
    )
    if clashes:
        raise ValueError("; ".join(clashes))
    with transaction(conn):
        directory_storage.upsert(conn, rows)
        directory_storage.upsert(conn, directory.staff, school_id=directory.school.id)
        directory_storage.upsert(
            conn, [*directory.teaching, *directory.class_teachers, *parents, *links]
        )


def load_accounts(
    conn: sqlite3.Connection, rows: list[tuple[str, str, Role, str]], now: float
) -> None:
    """(login, password, role, person id); one Argon2 hash per distinct demo password."""
    hashes: dict[str, str] = {}
    with transaction(conn):
        for login, password, role, person_id in rows:
            if password not in hashes:
                hashes[password] = passwords.hash_password(password)
            accounts.put_account(
                conn,
                login=login,
                password_hash=hashes[password],
                role=role,
                person_id=person_id,
                now=now,
            )


def load_journals(
    conn: sqlite3.Connection,
    config: ServerConfig,
    directory: Directory,
    events: dict[str, list[JournalEvent]],
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> int:
    """Push each journal's events as its teacher's device would; returns events refused."""
    roles = {s.id: s.roles for s in directory.staff}
    documents, directories = DocumentCache(), DirectoryCache()
    refused = 0
    for done, (journal_id, journal_events) in enumerate(sorted(events.items()), start=1):
        for (author, device), batch in groupby(journal_events, key=lambda e: (e.author, e.device)):
            principal = Principal(
                login=f"demo:{author}",
                role=Role.TEACHER,
                roles=roles.get(author, (Role.TEACHER,)),
                person_id=author,
                device_id=device,
                school_id=directory.school.id,
            )
            doc = JournalDoc()
            events_of_batch = list(batch)
            update = doc.add(events_of_batch)
            # generated history (a demo, a bench's whole year) may lie ahead of the machine's
            # clock: the loader's clock is the batch's latest stamp, the other checks hold
            latest = max(parse_stamp(e.hlc)[0] for e in events_of_batch) / 1000
            clock = partial(max, time.time(), latest)
            service = SyncService(conn, config, principal, documents, directories, clock=clock)
            response = service.sync(
                SyncRequest(
                    journals=(
                        JournalPush(
                            journal_id=journal_id, state_vector=doc.state_vector(), update=update
                        ),
                    )
                )
            )
            reply = response.journals[0]
            if reply.outcome is Outcome.REFUSED:
                raise RuntimeError(f"{journal_id}: {reply.rule}: {reply.message_ru}")
            refused += len(reply.event_ids)
        progress(done, len(events))
    return refused
