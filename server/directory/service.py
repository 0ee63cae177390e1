"""The slice of the directory each person may see, and the journals they may open."""

from __future__ import annotations

import sqlite3

import msgspec

from server.auth.access import journals_for
from server.auth.principal import Principal
from server.errors import AccessDenied, NotFound
from server.storage import directory as directory_storage
from server.storage import journals as journal_storage
from shared.journal import JournalDoc
from shared.model import Directory, Role


def directory_for(conn: sqlite3.Connection, principal: Principal) -> Directory:
    """Everything for the administration; for a teacher, the classes whose journals they open."""
    full = directory_storage.load_full(conn, school_id=principal.school_id)
    journals = journals_for(principal, full)
    if principal.is_administration or principal.has(Role.RECORDS_OFFICER):
        return msgspec.structs.replace(full, journals=tuple(journals.values()))
    classes = {j.class_id for j in journals.values()}
    students = {m.student_id for m in full.memberships if m.class_id in classes}
    return msgspec.structs.replace(
        full,
        classes=tuple(c for c in full.classes if c.id in classes),
        students=tuple(s for s in full.students if s.id in students),
        memberships=tuple(m for m in full.memberships if m.class_id in classes),
        teaching=tuple(t for t in full.teaching if t.class_id in classes),
        class_teachers=tuple(c for c in full.class_teachers if c.class_id in classes),
        groups=tuple(g for g in full.groups if g.class_id in classes),
        group_members=tuple(g for g in full.group_members if g.class_id in classes),
        combined=tuple(c for c in full.combined if classes.intersection(c.class_ids)),
        journals=tuple(journals.values()),
        corrections=tuple(g for g in full.corrections if g.journal_id in journals),
    )


def journal_document(conn: sqlite3.Connection, principal: Principal, journal_id: str) -> bytes:
    """A journal's Yjs document (binary), for those allowed to read it."""
    full = directory_storage.load_full(conn, school_id=principal.school_id)
    if journal_id not in {j.id for j in full.journals}:
        raise NotFound("Журнал не найден.")
    if journal_id not in journals_for(principal, full):
        raise AccessDenied("Нет доступа к этому журналу.")
    state, _ = journal_storage.load_document(conn, journal_id)
    return JournalDoc(state).snapshot()
