"""Pieces the sync service and the reopening of a year (server/sync/withdrawals.py) share."""

from __future__ import annotations

import dataclasses
import sqlite3

from server.storage import portfolio as portfolio_storage
from server.storage import web as web_storage
from shared.fold import CellKey, JournalState
from shared.hlc import Clock
from shared.journal import JournalDoc
from shared.model import SERVER_AUTHOR, AchievementRecorded, JournalInfo, Refused
from shared.portfolio import as_row
from shared.rules import JournalContext, PortfolioContext

SERVER_DEVICE = "server"


def with_closed_periods(
    conn: sqlite3.Connection, ctx: JournalContext | PortfolioContext, journal: JournalInfo
) -> JournalContext | PortfolioContext:
    """The rules' context with the class's closed periods (marks in them need a reason)."""
    if isinstance(ctx, JournalContext):
        closed = web_storage.closures(conn, journal.class_id)
        if closed:
            ctx = dataclasses.replace(ctx, closed_periods=frozenset(c["period_id"] for c in closed))
    return ctx


def refusal_events(doc: JournalDoc, violations, clock: Clock) -> list[Refused]:
    """The server's refusal of each violation. The id is `refusal-<event>`; an entry refused
    again after its first refusal was withdrawn (a reopened year) gets `refusal-<event>.2`…"""
    taken: set[str] = set()
    found = []
    for v in violations:
        base = f"refusal-{v.event_id}"
        refusal_id, n = base, 1
        while refusal_id in doc or refusal_id in taken:
            n += 1
            refusal_id = f"{base}.{n}"
        taken.add(refusal_id)
        found.append(
            Refused(
                id=refusal_id,
                author=SERVER_AUTHOR,
                device=SERVER_DEVICE,
                hlc=clock.tick(),
                supersedes=(v.event_id,),
                reason=v.message_ru,
                rule=v.rule,
            )
        )
    return found


def consolidate_portfolio(
    conn: sqlite3.Connection, journal: JournalInfo, folded: JournalState, touched: list[CellKey]
) -> None:
    """The portfolio's rows (`achievements`) for the touched cells: the current entry of each,
    or no row once it is retracted (pages read only these rows)."""
    for key in set(touched):
        if key[0] != "achievement":
            continue
        value = folded.cells[key].value
        if isinstance(value, AchievementRecorded):
            portfolio_storage.save(conn, as_row(value, journal.year_id))
        else:
            portfolio_storage.remove(conn, key[1])
