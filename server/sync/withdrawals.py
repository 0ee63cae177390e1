"""Withdrawing the refusals a closed year caused, when the director reopens it (issue 12).

A year closed by mistake refuses every entry of its journals (`year_not_closed`,
`portfolio_year_not_closed`). Reopening it, in the same transaction, checks each entry refused
only for that reason again against the rules with the year open, and appends to the journal's
document one server-authored `RefusalWithdrawn` per refusal, which `fold` honours: the entry
counts again on every replica that reads the new event. An entry that breaks another rule now
gets a new refusal with that rule's reason beside the withdrawal (one update, so no replica
sees it valid in between). Consolidated rows, event statuses and the stored state are
rewritten as a push would, so pages, reports and laptops converge at their next sync.
"""

from __future__ import annotations

import sqlite3

from server.storage import journals as storage
from server.sync.consolidate import consolidate_portfolio, refusal_events, with_closed_periods
from server.sync.service import SERVER_DEVICE, server_client_id
from shared import portfolio
from shared.fold import fold, order_key
from shared.hlc import Clock
from shared.journal import JournalDoc
from shared.model import (
    SERVER_AUTHOR,
    Directory,
    JournalEvent,
    JournalInfo,
    RefusalWithdrawn,
    encode_event,
)
from shared.rules import JournalContext, PortfolioContext, check_new_events, displaced_by_exemption

CLOSED_YEAR_RULES = frozenset({"year_not_closed", "portfolio_year_not_closed"})
REASON_LIMIT = 500  # EventBase.reason


def withdraw_closed_year_refusals(
    conn: sqlite3.Connection, directory: Directory, reason: str, now: float
) -> int:
    """Withdraw, in every journal and portfolio of `directory`'s year (already reopened), the
    refusals made only because the year was closed. Call inside the reopening's transaction.
    Returns how many entries count again."""
    assert directory.closure is None, "reopen the year first"
    documents = {j.id: j for j in directory.journals}
    documents |= portfolio.documents_for(directory, "", administration=True)
    stored = {
        row["id"]
        for row in conn.execute("SELECT id FROM journals WHERE year_id = ?", (directory.year.id,))
    }
    client_id = server_client_id(conn)
    restored = 0
    for journal_id in sorted(stored & set(documents)):
        restored += _withdraw_in(conn, documents[journal_id], directory, client_id, reason, now)
    return restored


def _context(
    conn: sqlite3.Connection, directory: Directory, journal: JournalInfo
) -> JournalContext | PortfolioContext:
    if journal.id in {j.id for j in directory.journals}:
        ctx = JournalContext.from_directory(directory, journal)
    else:
        ctx = PortfolioContext.from_directory(directory, journal)
    return with_closed_periods(conn, ctx, journal)


def _withdraw_in(
    conn: sqlite3.Connection,
    journal: JournalInfo,
    directory: Directory,
    client_id: int,
    reason: str,
    now: float,
) -> int:
    state, _ = storage.load_document(conn, journal.id)
    doc = JournalDoc(state, client_id=client_id)
    before = doc.state()
    refusals = {
        target: refusal
        for target, refusal in before.refusals.items()
        if refusal.rule in CLOSED_YEAR_RULES and target in before.events
    }
    if not refusals:
        return 0
    entries = sorted((before.events[i] for i in refusals), key=order_key)
    # checked as if they arrived now, together: against the journal without them (and
    # without the refusals being withdrawn, which would refuse them again)
    leave_out = set(refusals) | {r.id for r in refusals.values()}
    base = fold({i: e for i, e in before.events.items() if i not in leave_out})
    ctx = _context(conn, directory, journal)
    violations = check_new_events(base, entries, ctx)
    displaced = displaced_by_exemption(base, entries, ctx, violations)
    clock = Clock(SERVER_DEVICE)
    for event in doc.events().values():
        clock.observe(event.hlc)
    note = f"Год открыт заново: {reason}"[:REASON_LIMIT]
    withdrawals: list[JournalEvent] = [
        RefusalWithdrawn(
            id=f"withdrawal-{refusal.id}"[:100],
            author=SERVER_AUTHOR,
            device=SERVER_DEVICE,
            hlc=clock.tick(),
            supersedes=(refusal.id,),
            reason=note,
        )
        for refusal in sorted(refusals.values(), key=order_key)
    ]
    new = [*withdrawals, *refusal_events(doc, [*violations, *displaced], clock)]
    sv_before = doc.state_vector()
    doc.add(new)
    storage.append_update(conn, journal.id, doc.diff(sv_before), SERVER_DEVICE, now)
    folded = doc.state()
    storage.insert_events(conn, journal.id, [(encode_event(e), e) for e in new], folded, now)
    storage.refresh_statuses(
        conn, [*(e.id for e in entries), *(v.event_id for v in displaced)], folded
    )
    touched = [folded.cell_of[e.id] for e in entries if e.id in folded.cell_of]
    touched += [base.cell_of[v.event_id] for v in displaced]
    if isinstance(ctx, JournalContext):
        storage.write_cells(conn, journal.id, folded, touched)
    else:
        consolidate_portfolio(conn, journal, folded, touched)
    storage.set_state(conn, journal.id, doc.state_vector(), len(folded.events), now)
    return len(entries) - len(violations)
