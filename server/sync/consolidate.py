"""Pieces the sync service and the reopening of a year (server/sync/withdrawals.py) share."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Mapping

from server.storage import portfolio as portfolio_storage
from server.storage import web as web_storage
from shared.fold import CellKey, JournalState, fold, order_key
from shared.hlc import Clock
from shared.journal import JournalDoc
from shared.model import (
    SERVER_AUTHOR,
    AchievementRecorded,
    JournalEvent,
    JournalInfo,
    RefusalWithdrawn,
    Refused,
)
from shared.portfolio import as_row
from shared.rules import (
    JournalContext,
    PortfolioContext,
    RuleViolation,
    check_new_events,
    clashes_with_counted,
    displaced_by_exemption,
)

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


REASON_LIMIT = 500  # EventBase.reason


@dataclasses.dataclass
class Withdrawal:
    """What withdrawing some refusals writes: `new` events (a `RefusalWithdrawn` per refusal,
    then a fresh refusal for each entry that breaks another rule now), and what they touch."""

    entries: list[JournalEvent]  # the entries whose refusals are withdrawn, in clock order
    base: JournalState  # the journal without them and their refusals
    violations: list[RuleViolation]  # entries refused again, for another reason
    displaced: list[RuleViolation]  # other entries a restored exemption now covers
    new: list[JournalEvent]

    @property
    def restored(self) -> int:
        return len(self.entries) - len(self.violations)

    def status_ids(self) -> list[str]:
        """Stored events whose status the withdrawal may change."""
        return [*(e.id for e in self.entries), *(v.event_id for v in self.displaced)]

    def touched(self, folded: JournalState) -> list[CellKey]:
        cells = [folded.cell_of[e.id] for e in self.entries if e.id in folded.cell_of]
        return cells + [self.base.cell_of[v.event_id] for v in self.displaced]


def withdraw(
    doc: JournalDoc,
    state: JournalState,
    refusals: Mapping[str, Refused],
    ctx: JournalContext | PortfolioContext,
    note: str,
) -> Withdrawal:
    """Withdraw `refusals` (refused entry id -> its refusal in force) with the reason `note`.

    The entries are checked again as if they arrived now, together, against the journal
    without them (and without the refusals being withdrawn, which would refuse them again):
    one that breaks another rule, or clashes with an absence recorded meanwhile
    (`clashes_with_counted`), gets a new refusal beside the withdrawal, in one update, so no
    replica sees it valid in between. The server's clock follows every event of the
    journal, so a withdrawal and a new refusal sort after what they act on."""
    entries = sorted((state.events[i] for i in refusals), key=order_key)
    leave_out = set(refusals) | {r.id for r in refusals.values()}
    base = fold({i: e for i, e in state.events.items() if i not in leave_out})
    violations = check_new_events(base, entries, ctx)
    refused = {v.event_id for v in violations}
    violations += clashes_with_counted(base, [e for e in entries if e.id not in refused])
    displaced = displaced_by_exemption(base, entries, ctx, violations)
    clock = Clock(SERVER_DEVICE)
    for event in state.events.values():
        clock.observe(event.hlc)
    withdrawals: list[JournalEvent] = [
        RefusalWithdrawn(
            id=f"withdrawal-{refusal.id}"[:100],
            author=SERVER_AUTHOR,
            device=SERVER_DEVICE,
            hlc=clock.tick(),
            supersedes=(refusal.id,),
            reason=note[:REASON_LIMIT],
        )
        for refusal in sorted(refusals.values(), key=order_key)
    ]
    new = [*withdrawals, *refusal_events(doc, [*violations, *displaced], clock)]
    return Withdrawal(entries, base, violations, displaced, new)


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
