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
from server.sync.consolidate import consolidate_portfolio, with_closed_periods, withdraw
from server.sync.service import SERVER_DEVICE, server_client_id
from shared import portfolio
from shared.journal import JournalDoc
from shared.model import Directory, JournalInfo, encode_event
from shared.rules import JournalContext, PortfolioContext

CLOSED_YEAR_RULES = frozenset({"year_not_closed", "portfolio_year_not_closed"})


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
    ctx = _context(conn, directory, journal)
    made = withdraw(doc, before, refusals, ctx, f"Год открыт заново: {reason}")
    sv_before = doc.state_vector()
    doc.add(made.new)
    storage.append_update(conn, journal.id, doc.diff(sv_before), SERVER_DEVICE, now)
    folded = doc.state()
    storage.insert_events(conn, journal.id, [(encode_event(e), e) for e in made.new], folded, now)
    storage.refresh_statuses(conn, made.status_ids(), folded)
    if isinstance(ctx, JournalContext):
        storage.write_cells(conn, journal.id, folded, made.touched(folded))
    else:
        consolidate_portfolio(conn, journal, folded, made.touched(folded))
    storage.set_state(conn, journal.id, doc.state_vector(), len(folded.events), now)
    return made.restored
