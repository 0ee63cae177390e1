"""A server restored from an earlier backup gets back, from the laptops, what it lost.

A real server process; four laptops: the mathematics teacher's two devices (both write the
5th form's journal), the Russian teacher's and the deputy head's, who writes nothing and reads
every journal. The backup (the code of `journal-server backup`) holds its snapshot until both
of the mathematics teacher's laptops have synced a round, so syncs commit while it copies; all
four laptops record and sync more; the server is stopped and restored from the backup with
`journal-server restore`; each laptop syncs once. Every entry is then on the server exactly
once, the stored documents equal every laptop's, and the consolidated rows are rebuilt: they
equal the fold of the documents, counted row by row. A laptop holding another device's entries
that the server lost does not push them (the server refuses another author's entries) and is
not refused: their own device brings them back.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing

import pytest

from client_tui.services.store import ACCEPTED
from scripts.badlink.live import ROOT, child_env
from server.storage import backup
from shared.fold import fold
from tests.e2e.workload import (
    consolidated,
    expected_consolidated,
    folded_view,
    integrity,
    record_burst,
    server_doc,
    server_event_counts,
    wait_until,
)
from tests.factories import MATH_5, RUSSIAN_5

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

JOURNALS = (MATH_5, RUSSIAN_5)


def journal_server(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_laptops_bring_back_what_a_restored_server_lost(live_server, laptops, tmp_path):
    rng = random.Random(14)
    math_a = laptops("math", live_server.url, name="math-a")
    math_b = laptops("math", live_server.url, name="math-b")
    rus = laptops("rus", live_server.url, name="rus")
    deputy = laptops("deputy", live_server.url, name="deputy")
    writes = {math_a: (MATH_5,), math_b: (MATH_5,), rus: (RUSSIAN_5,), deputy: ()}
    typed: dict[object, list[str]] = {laptop: [] for laptop in writes}

    def work(laptop, steps: int) -> None:
        for journal in writes[laptop]:
            typed[laptop].extend(record_burst(laptop.book, journal, rng_of[laptop], steps))
        laptop.sync()

    rng_of = {laptop: random.Random(rng.random()) for laptop in writes}
    for laptop in writes:  # the morning, before the backup
        work(laptop, 6)

    # the backup, taken while two laptops record and sync
    stop = threading.Event()
    rounds = {math_a: 0, math_b: 0}
    failures: list[BaseException] = []

    def keep_working(laptop) -> None:
        try:
            while not stop.is_set() or rounds[laptop] < 2:
                work(laptop, 2)
                rounds[laptop] += 1
        except BaseException as exc:  # reported by the test thread
            failures.append(exc)

    workers = [threading.Thread(target=keep_working, args=(lap,)) for lap in rounds]
    for worker in workers:
        worker.start()
    backup_file = tmp_path / "backups" / "night.sqlite"
    held: list[dict] = []

    def hold_the_snapshot(done: int, total: int) -> None:
        """The copy's read transaction is open: both laptops sync a round before it ends."""
        if not held:
            held.append(dict(rounds))
            assert wait_until(lambda: all(rounds[x] > held[0][x] for x in rounds), 60)

    try:
        backup.backup(live_server.db, backup_file, copy_progress=hold_the_snapshot)
    finally:
        stop.set()
        for worker in workers:
            worker.join(120)
    assert not failures, failures
    assert held and all(n >= 2 for n in rounds.values())
    with closing(sqlite3.connect(backup_file)) as copy, live_server.db_conn() as conn:
        in_copy = copy.execute("SELECT count(*) FROM events").fetchone()[0]
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert in_copy < len(server_event_counts(conn))  # syncs committed during the copy

    with live_server.db_conn() as conn:
        at_backup = len(server_event_counts(conn))
    for _ in range(2):  # the rest of the day: every laptop hears of the others' entries
        for laptop in writes:
            work(laptop, 5)
    for laptop in writes:
        laptop.sync()
    with live_server.db_conn() as conn:
        before_loss = server_event_counts(conn)
    assert len(before_loss) > at_backup  # something to lose

    # the disk fails; the server is restored from the night's backup
    live_server.stop()
    restored = journal_server("--db", str(live_server.db), "restore", str(backup_file))
    assert restored.returncode == 0, restored.stderr
    live_server.start()
    with live_server.db_conn() as conn:
        lost = set(before_loss) - set(server_event_counts(conn))
    assert lost, "the restore must have lost entries for this test to mean anything"

    # each laptop syncs once: the deputy's first (it holds every lost entry and wrote none of
    # them), then the Russian teacher's and both of the mathematics teacher's devices
    for laptop in (deputy, rus, math_b, math_a):
        report = laptop.sync()
        assert report.complete, laptop.home
        assert report.rebuilt == [] and report.refused == 0
    for laptop in writes:  # and once more, to hear what the others brought back
        assert laptop.sync().complete

    with live_server.db_conn() as conn:
        assert integrity(conn) == "ok"
        counts = server_event_counts(conn)
        assert set(counts.values()) == {1}  # exactly once
        assert set(before_loss) <= set(counts)  # every entry back
        everything = [i for ids in typed.values() for i in ids]
        assert set(everything) <= set(counts)
        rows = 0
        for journal in JOURNALS:
            state = fold(server_doc(conn, journal).events())
            assert set(server_event_counts(conn, journal)) == set(state.events)
            expected = expected_consolidated(state)
            assert consolidated(conn, journal) == expected  # the rows are rebuilt
            rows += sum(1 for cells in expected.values() for e in cells.values() if e in lost)
            for laptop in writes:
                if journal in laptop.engine().journal_ids():
                    assert folded_view(laptop.book.state(journal)) == folded_view(state)
    assert rows > 10  # rows whose value is an entry the restore had lost, written again
    print(f"lost {len(lost)} entries of {len(before_loss)}; {rows} consolidated rows rebuilt")
    for laptop, ids in typed.items():
        accepted = {e.event_id for e in laptop.store.outbox(states=[ACCEPTED])}
        assert set(ids) <= accepted
