"""School lists in from the files a school keeps: pupils, parents with their children, staff,
class teachers and the teaching load, from CSV or XLSX.

`preview()` says what a file would change (additions, changes, leavers, every wrong line with
its number and a Russian reason) and writes nothing; `apply()` compares again inside one
transaction and writes it all, or nothing if any line is wrong.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from server.importer import school_year
from server.lists.load import plan_class_teachers, plan_load
from server.lists.people import plan_parents, plan_pupils, plan_staff
from server.lists.plan import LineError, Plan, Preview, apply_writes, effective_day, finish, foreign
from server.lists.reading import FileRefused, read_table
from server.lists.specs import SPECS, ListKind, template_csv, template_xlsx
from server.storage import lists as storage
from server.storage.db import transaction

__all__ = [
    "SPECS",
    "ListKind",
    "ListRefused",
    "Preview",
    "apply",
    "preview",
    "template_csv",
    "template_xlsx",
]

_PLANNERS = {
    ListKind.PUPILS: plan_pupils,
    ListKind.PARENTS: plan_parents,
    ListKind.STAFF: plan_staff,
    ListKind.CLASS_TEACHERS: plan_class_teachers,
    ListKind.LOAD: plan_load,
}


class ListRefused(Exception):
    """`apply` found wrong lines: nothing was written; the preview says which and why."""

    def __init__(self, result: Preview):
        super().__init__("\n".join(str(e) for e in result.errors))
        self.preview = result


def _plan(
    conn: sqlite3.Connection,
    kind: ListKind,
    data: bytes,
    school_id: str | None,
    on: dt.date | None,
    today: dt.date | None,
) -> tuple[Plan, Preview]:
    year = school_year(conn, school_id)
    spec = SPECS[kind]
    now = storage.current(
        conn, year["school_id"], year["id"], (today or dt.date.today()).isoformat()
    )
    plan = Plan(now=now, on=effective_day(now, on, today or dt.date.today()))
    try:
        table = read_table(data, spec.required, spec.optional)
    except FileRefused as refused:
        plan.errors += [LineError(line=0, reason=r) for r in refused.reasons]
        return plan, finish(plan, kind, 0, "")
    _PLANNERS[kind](plan, table)
    if not plan.errors:
        foreign(conn, plan)
    return plan, finish(plan, kind, len(table.lines), table.encoding)


def preview(
    conn: sqlite3.Connection,
    kind: ListKind,
    data: bytes,
    *,
    school_id: str | None = None,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> Preview:
    """What the file would change; nothing is written."""
    return _plan(conn, kind, data, school_id, on, today)[1]


def apply(
    conn: sqlite3.Connection,
    kind: ListKind,
    data: bytes,
    *,
    school_id: str | None = None,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> Preview:
    """Compare again under the write lock and write it all; `ListRefused` (nothing written)
    if any line is wrong."""
    with transaction(conn):
        plan, result = _plan(conn, kind, data, school_id, on, today)
        if result.errors:
            raise ListRefused(result)
        apply_writes(conn, plan)
    return result
