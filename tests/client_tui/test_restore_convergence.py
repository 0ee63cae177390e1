"""Restoring the server from an earlier backup, at any point of a program over lossy links:
once every laptop has synced on a healed link, nothing any laptop typed is lost.

The programs and the world are those of test_convergence.py (four laptops, refusals at the
keyboard and by the server, whole refusals, dropped, duplicated and reordered messages), with
a backup taken at a drawn step and the server restored from it at a later one. Afterwards:

- every entry a laptop holds that a laptop wrote is on the server, exactly once, and every
  laptop holds every entry the server holds;
- every entry typed is on the server or shown refused on its laptop;
- the consolidated rows equal the fold of the server's documents.

What the restore cannot bring back is the server's own refusals written after the backup:
laptops hold them and the server takes no one's refusals but its own, so it refuses the same
entries again, under its new client id, when their authors send them back (docs/DESIGN.md,
«Backup and restore»). Those are the only entries a laptop may hold that the server does not.
"""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from server.storage import backup
from server.storage.db import connect
from server.storage.engine import SQLiteEngine
from shared.fold import fold
from shared.model import SERVER_AUTHOR
from tests.client_tui.test_convergence import (  # noqa: F401 - fixtures
    JOURNALS,
    LAPTOPS,
    World,
    consolidated_rows,
    expected_rows,
    fault_sets,
    steps,
    template,
    worlds,
)


def take_backup(world: World) -> None:
    world.backup = world.config.database.with_name("night.sqlite")
    backup.backup(world.config.database, world.backup)
    world.log.append("backup")


def restore(world: World) -> None:
    """Every laptop syncs on a good link; then what `journal-server restore` does, under the
    in-process server (whose caches check the database before every use, as a restarted
    server would start empty)."""
    if getattr(world, "backup", None) is None:
        return
    for _ in range(2):  # the evening's syncs: laptops hold each other's entries
        for name in world.laptops:
            world.clean_sync(name)
    with world.server_db() as conn:
        before = {r[0] for r in conn.execute("SELECT id FROM events")}
    SQLiteEngine(world.config.database).restore(world.backup)
    conn = connect(world.config.database)
    try:
        backup._after_restore(conn, world.backup, "0" * 64, time.time())
        lost = before - {r[0] for r in conn.execute("SELECT id FROM events")}
    finally:
        conn.close()
    world.log.append(f"restore: {len(lost)} entries lost")
    event(f"entries the restore lost: {'0' if not lost else '1-9' if len(lost) < 10 else '10+'}")


@st.composite
def programs(draw) -> list[tuple]:
    program = draw(st.lists(steps, min_size=20, max_size=40))
    first = draw(st.integers(0, len(program)))
    second = draw(st.integers(first, len(program)))
    return [*program[:first], ("backup",), *program[first:second], ("restore",), *program[second:]]


def own_entries(raw: dict[str, str], doc_events) -> set[str]:
    return {i for i in raw if doc_events[i].author != SERVER_AUTHOR}


def assert_nothing_lost(world: World) -> None:
    server_docs = world.server_docs()
    with world.server_db() as conn:
        rows = conn.execute("SELECT id, journal_id, body FROM events").fetchall()
        consolidated = {j: consolidated_rows(conn, j) for j in JOURNALS}
    assert len({r["id"] for r in rows}) == len(rows), "an entry is stored twice"
    for journal, doc in server_docs.items():
        table = {r["id"]: r["body"] for r in rows if r["journal_id"] == journal}
        assert table == doc.raw_events(), f"{journal}: events table differs from the document"
        assert consolidated[journal] == expected_rows(fold(doc.events())), journal
    on_server = {r["id"] for r in rows}
    for name, laptop in world.laptops.items():
        for journal in laptop.journals():
            doc = laptop.book.doc(journal)
            server = server_docs[journal]
            assert set(server.raw_events()) <= set(doc.raw_events()), f"{name}: {journal}"
            mine = own_entries(doc.raw_events(), doc.events())
            theirs = own_entries(server.raw_events(), server.events())
            assert mine == theirs, f"{name}: {journal}: {sorted(mine ^ theirs)[:5]}"
        assert laptop.session.status().pending == 0, name
        rejected = {e.event_id for e in laptop.session.rejected()}
        for event_id, journal in laptop.ledger.items():
            refused = event_id in fold(server_docs[journal].events()).refusals
            assert (event_id in on_server and not refused) or event_id in rejected, (
                f"{name}: {event_id} is neither on the server nor shown refused"
            )


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("RESTORE_EXAMPLES", "12")),
    derandomize=not os.environ.get("CONVERGENCE_RANDOM"),
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    program=programs(),
    faults=st.fixed_dictionaries({name: fault_sets for name in LAPTOPS}),
    seed=st.integers(0, 2**16),
)
def test_a_restored_server_gets_back_every_entry_from_the_laptops(
    worlds,  # noqa: F811 - the fixture imported above
    program,
    faults,
    seed,
):
    options = {name: {"faults": faults[name], "seed": seed} for name in LAPTOPS}
    with worlds(**options) as world:
        try:
            world.morning()
            for step in program:
                if step == ("backup",):
                    take_backup(world)
                elif step == ("restore",):
                    restore(world)
                else:
                    world.run(step)
            world.settle()
            assert_nothing_lost(world)
        finally:
            note("\n".join(world.log))
