"""SIGKILL at the worst moments: the laptop while typing, the laptop while syncing, the server
while it receives and applies a large push. What was reported saved survives; every entry
reaches the server exactly once; the server's database stays whole and its consolidated rows
match the folded journal.
"""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from client_tui.services.api import SyncError, TemporaryFailure
from client_tui.services.session import Session
from client_tui.services.store import ACCEPTED
from scripts.badlink.live import ROOT, child_env
from scripts.badlink.proxy import PERFECT, FaultProxy, LinkProfile
from shared.fold import fold
from tests.e2e.workload import (
    LineReader,
    bulk_record,
    consolidated,
    expected_consolidated,
    folded_view,
    ids_from,
    integrity,
    record_burst,
    request_head_size,
    server_doc,
    server_event_counts,
    wait_until,
)
from tests.factories import MATH_5, PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

WAIT = 30.0  # the longest any single wait may take


class Child:
    """`python -m tests.e2e.child …` with its stdout read line by line; always reaped."""

    def __init__(self, proc: subprocess.Popen[str]):
        self.proc = proc
        self.reader = LineReader(proc)

    def next_line(self, timeout: float = WAIT) -> str:
        line = self.reader.next(timeout)
        assert line is not None, f"the child ended early (exit {self.proc.poll()})"
        return line

    def sigkill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(WAIT)


@contextlib.contextmanager
def child(args: list[str], stderr: Path) -> Iterator[Child]:
    with (
        open(stderr, "ab") as err,
        subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.child", *args],
            cwd=ROOT,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        ) as proc,
    ):
        running = Child(proc)
        try:
            yield running
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(WAIT)
            running.reader.rest(WAIT)  # the reader thread is done before the pipe closes


def assert_on_server_exactly_once(server, event_ids) -> None:
    with server.db_conn() as conn:
        counts = server_event_counts(conn)
    missing = [i for i in event_ids if counts[i] == 0]
    doubled = [i for i in event_ids if counts[i] > 1]
    assert not missing, f"{len(missing)} entries never reached the server"
    assert not doubled


def assert_server_matches(server, journal_id: str, laptop_state) -> None:
    """Events table = the stored document = the laptop's journal; rows = the folded state."""
    with server.db_conn() as conn:
        assert integrity(conn) == "ok"
        counts = server_event_counts(conn, journal_id)
        state = fold(server_doc(conn, journal_id).events())
        rows = consolidated(conn, journal_id)
        stored_count = conn.execute(
            "SELECT event_count FROM journals WHERE id = ?", (journal_id,)
        ).fetchone()[0]
    assert set(counts.values()) == {1}
    assert set(counts) == set(state.events)
    assert stored_count == len(state.events)
    assert folded_view(state) == folded_view(laptop_state)
    assert rows == expected_consolidated(state)
    assert len(rows["mark"]) == len(state.all_marks())


# --------------------------------------------------------------------------- a. typing


def test_laptop_killed_while_typing_keeps_every_entry_it_reported_saved(
    live_server, laptops, tmp_path
):
    rng = random.Random(31)
    laptop = laptops("math", live_server.url, name="laptop")
    home = laptop.home
    laptop.close()  # the child process owns the profile from now on
    reported: list[str] = []
    for round_ in range(3):
        with child(["record", str(home), MATH_5, str(100 + round_)], tmp_path / "child.err") as c:
            assert c.next_line() == "READY"
            wanted = rng.randint(8, 30)
            seen: list[str] = []
            while len(seen) < wanted:
                seen += ids_from([c.next_line()])
            time.sleep(rng.uniform(0, 0.03))  # somewhere inside the next entry's save
            c.sigkill()
            assert c.proc.returncode == -signal.SIGKILL
            seen += ids_from(c.reader.rest(WAIT))
        reported += seen

        session = Session(home, password=PASSWORD)
        try:
            assert integrity(session.store.conn) == "ok"
            outbox = {e.event_id for e in session.store.outbox()}
            doc = session.book.doc(MATH_5)
            assert [i for i in reported if i not in outbox] == []
            assert [i for i in reported if i not in doc] == []
            assert outbox <= set(doc.events())  # an entry is in both or in neither
            assert session.status().pending == len(outbox)
        finally:
            session.close()

    session = Session(home, password=PASSWORD)
    try:
        report = session.sync()
        assert report.complete
        assert session.status().pending == 0
        outbox = {e.event_id for e in session.store.outbox()}
        assert {e.event_id for e in session.store.outbox(states=[ACCEPTED])} == outbox
        assert set(reported) <= outbox
        assert_on_server_exactly_once(live_server, outbox)
        assert_server_matches(live_server, MATH_5, session.book.state(MATH_5))
    finally:
        session.close()


# --------------------------------------------------------------------------- b. syncing

SLOW_UPLOAD = LinkProfile(bandwidth_bps=8_000, chunk_size=1024)
SLOW_REPLY = LinkProfile(latency_ms=2000)  # the reply waits 2 s in the proxy
KILL_AT_BYTES = 6_000


@pytest.mark.parametrize("moment", ["uploading", "awaiting_reply"])
def test_laptop_killed_mid_sync_resumes_without_loss_or_duplicates(
    live_server, laptops, tmp_path, moment
):
    rng = random.Random(47)
    with FaultProxy(live_server.port, PERFECT, seed=3) as proxy:
        laptop = laptops("math", proxy.url, name="laptop")
        device = laptop.store.get("device_id")
        typed = bulk_record(laptop.book, MATH_5, lessons=25, marks_per_pupil=3, attendance=True)
        typed += record_burst(laptop.book, MATH_5, rng, 10)
        assert len(typed) > 400
        home = laptop.home
        laptop.close()

        def on_server() -> int:
            with live_server.db_conn() as conn:
                query = "SELECT count(*) FROM events WHERE device = ?"
                return conn.execute(query, (device,)).fetchone()[0]

        proxy.set_profile(SLOW_UPLOAD if moment == "uploading" else SLOW_REPLY)
        proxy.reset_stats()
        with child(["sync", str(home)], tmp_path / "child.err") as c:
            assert c.next_line() == "SYNCING"
            if moment == "uploading":
                assert wait_until(lambda: proxy.stats.bytes_up >= KILL_AT_BYTES, WAIT)
            else:  # the server has committed the push; its reply is still on the way
                assert wait_until(lambda: on_server() == len(typed), WAIT, interval=0.02)
            at_kill = proxy.stats
            c.sigkill()
        assert at_kill.bytes_down == 0, "the reply reached the laptop before the kill"
        assert on_server() == (0 if moment == "uploading" else len(typed))

        proxy.set_profile(PERFECT)
        session = Session(home, password=PASSWORD)
        try:
            assert integrity(session.store.conn) == "ok"
            assert session.status().pending == len(typed)
            report = session.sync()
            assert report.complete
            if moment == "uploading":
                assert report.bytes_sent > at_kill.bytes_up  # the kill was mid-body
            status = session.status()
            assert (status.pending, status.refused, status.conflicts) == (0, 0, 0)
            assert_on_server_exactly_once(live_server, typed)
            assert_server_matches(live_server, MATH_5, session.book.state(MATH_5))
        finally:
            session.close()


# --------------------------------------------------------------------------- c. server


@pytest.mark.parametrize("moment", ["receiving_body", "body_received"])
def test_server_killed_mid_apply_keeps_a_whole_database(live_server, laptops, moment):
    sent: list[int] = []  # bytes on the wire of each sync request: head + body

    def tap(request: httpx.Request) -> None:
        if request.url.path.endswith("/sync"):
            sent.append(request_head_size(request) + len(request.content))

    with FaultProxy(live_server.port, PERFECT, seed=5) as proxy:
        laptop = laptops("math", proxy.url, name="laptop", timeout=30, on_request=tap)
        typed = bulk_record(laptop.book, MATH_5, lessons=70, marks_per_pupil=8, attendance=True)
        assert len(typed) > 2500

        proxy.set_profile(LinkProfile(bandwidth_bps=100_000, chunk_size=4096))
        proxy.reset_stats()
        outcome: dict[str, object] = {}

        def run_sync() -> None:
            try:
                outcome["report"] = laptop.sync()
            except SyncError as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=run_sync, name="laptop-sync")
        worker.start()
        try:
            assert wait_until(lambda: bool(sent), WAIT)
            total = sent[0]
            kill_at = total // 2 if moment == "receiving_body" else total
            assert wait_until(lambda: proxy.stats.bytes_up >= kill_at, WAIT, interval=0.001)
            live_server.kill()
        finally:
            worker.join(WAIT + 10)
        assert not worker.is_alive()
        assert isinstance(outcome.get("error"), TemporaryFailure), outcome
        assert laptop.status().pending == len(typed)

        with live_server.db_conn() as conn:  # the file as the crash left it
            assert integrity(conn) == "ok"
            landed = sum(server_event_counts(conn, MATH_5).values())
        assert landed in (0, len(typed)), "a push was stored in part"
        if moment == "receiving_body":
            assert landed == 0

        live_server.restart()
        proxy.set_profile(PERFECT)
        report = laptop.sync()
        assert report.complete
        status = laptop.status()
        assert (status.pending, status.refused, status.conflicts) == (0, 0, 0)
        assert_on_server_exactly_once(live_server, typed)
        assert_server_matches(live_server, MATH_5, laptop.book.state(MATH_5))
