"""A real server behind a fault-injecting proxy: entries typed while the link is dead, then
synced over a link that resets, stalls and cuts requests and replies mid-body, then healed.
Nothing typed is lost, nothing is stored twice, every replica folds to the same journal.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from client_tui.services.api import TemporaryFailure
from scripts.badlink.proxy import PERFECT, FaultProxy, LinkProfile
from shared import wire
from shared.fold import fold
from tests.e2e.workload import (
    bulk_record,
    consolidated,
    expected_consolidated,
    folded_view,
    record_burst,
    record_step,
    request_head_size,
    server_doc,
    server_event_counts,
)
from tests.factories import MATH_5

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

DEAD = LinkProfile(reset_probability=1.0)
"""Connects, then every connection is reset at its first byte: the server is unreachable."""
FLAKY = LinkProfile(
    latency_ms=30,
    stall_probability=0.2,
    stall_ms=200,
    reset_probability=0.2,
    chunk_size=2048,
)
"""Bad but alive: latency, a stall or a reset on one chunk in five."""
CUT_UP = 1500  # bytes of a request that get through: past the headers, inside the body
CUT_DOWN = 600  # bytes of a reply that get through: past the headers, inside the body
MAX_ATTEMPTS = 60


class Wiretap:
    """httpx hooks recording each sync request body and each sync reply's status line."""

    def __init__(self) -> None:
        self.requests: list[tuple[int, bytes]] = []  # (head size, body)
        self.replies: list[tuple[int, int]] = []  # (status, content-length)

    def on_request(self, request: httpx.Request) -> None:
        if request.url.path.endswith("/sync"):
            self.requests.append((request_head_size(request), request.content))

    def on_response(self, response: httpx.Response) -> None:
        if response.request.url.path.endswith("/sync"):
            length = int(response.headers.get("content-length", "-1"))
            self.replies.append((response.status_code, length))


def post_sync(http: httpx.Client, body: bytes) -> wire.SyncResponse:
    response = http.post("/api/v1/sync", content=body, headers={"Content-Type": wire.CONTENT_TYPE})
    assert response.status_code == 200, response.text
    reply = wire.decode(response.content)
    assert isinstance(reply, wire.SyncResponse)
    return reply


def outcome(reply: wire.SyncResponse, journal_id: str) -> wire.Outcome | None:
    """The journal's outcome; None when the request did not push it and the server found
    its state as the request's digest said (nothing to answer)."""
    found = [j for j in reply.journals if j.journal_id == journal_id]
    assert len(found) <= 1
    return found[0].outcome if found else None


def journal_sv(server, journal_id: str) -> bytes:
    with server.db_conn() as conn:
        row = conn.execute("SELECT state_vector FROM journals WHERE id = ?", (journal_id,))
        return bytes(row.fetchone()[0])


def test_entries_typed_offline_survive_a_dead_then_bad_link_and_converge(live_server, laptops):
    rng = random.Random(20261123)
    tap = Wiretap()
    with FaultProxy(live_server.port, PERFECT, seed=11) as proxy:
        # The same teacher's other laptop filled the journal earlier: the first laptop's sync
        # replies carry those entries, so a reply is long enough to be cut in its body.
        other = laptops("math", proxy.url, name="other")
        other_ids = bulk_record(other.book, MATH_5, lessons=12, marks_per_pupil=3, attendance=True)
        assert other.sync().complete

        laptop = laptops(
            "math",
            proxy.url,
            name="laptop",
            on_request=tap.on_request,
            on_response=tap.on_response,
            first_sync=False,  # the burst's first sync is this test's subject
        )

        # 1. The link is dead: a burst of lessons, attendance and marks is typed offline.
        proxy.set_profile(DEAD)
        typed = record_burst(laptop.book, MATH_5, rng, 40)
        assert len(typed) > 40
        for _ in range(3):
            with pytest.raises(TemporaryFailure):
                laptop.sync()
        status = laptop.status()
        assert status.pending == len(typed)
        assert status.last_error
        assert {e.event_id for e in laptop.pending()} == set(typed)
        with live_server.db_conn() as conn:
            assert not set(typed) & set(server_event_counts(conn))

        # 2. The request is cut in the middle of its body: the server stores nothing.
        proxy.set_profile(LinkProfile(cut_request_after_bytes=CUT_UP))
        cuts = proxy.stats.cuts
        with pytest.raises(TemporaryFailure):
            laptop.sync()
        assert proxy.stats.cuts == cuts + 1
        head, body = tap.requests[-1]
        assert head < CUT_UP < head + len(body)
        with live_server.db_conn() as conn:
            assert not set(typed) & set(server_event_counts(conn))
        assert laptop.status().pending == len(typed)

        # 3. The reply is cut in the middle of its body: the server took the burst, the laptop
        #    never heard so, and keeps every entry pending.
        proxy.set_profile(LinkProfile(cut_after_bytes=CUT_DOWN))
        replies = len(tap.replies)
        with pytest.raises(TemporaryFailure):
            laptop.sync()
        assert len(tap.replies) == replies + 1
        status_code, length = tap.replies[-1]
        assert status_code == 200
        assert length > CUT_DOWN  # the headers arrived; the body was cut
        with live_server.db_conn() as conn:
            counts = server_event_counts(conn)
        assert all(counts[event_id] == 1 for event_id in typed)
        assert laptop.status().pending == len(typed)

        # 4. Bad but alive: the teacher keeps typing; each attempt meets resets, stalls and
        #    cuts at random points of the request or the reply.
        failed = 0
        for _ in range(8):
            if rng.random() < 0.7:
                typed += record_step(laptop.book, MATH_5, rng)
            proxy.set_profile(
                rng.choice(
                    [
                        FLAKY,
                        LinkProfile(cut_after_bytes=rng.randrange(100, 2000)),
                        LinkProfile(cut_request_after_bytes=rng.randrange(100, 3000)),
                        LinkProfile(
                            latency_ms=20,
                            reset_probability=0.2,
                            cut_after_bytes=rng.randrange(150, 1500),
                        ),
                    ]
                )
            )
            try:
                laptop.sync()
            except TemporaryFailure:
                failed += 1
        proxy.set_profile(FLAKY)
        for _ in range(MAX_ATTEMPTS):
            try:
                if laptop.sync().complete:
                    break
            except TemporaryFailure:
                failed += 1
        else:
            pytest.fail(f"no complete sync over the bad link in {MAX_ATTEMPTS} attempts")
        assert laptop.status().pending == 0
        assert failed >= 3

        # 5. Healed.
        proxy.set_profile(PERFECT)
        report = laptop.sync()
        assert report.complete
        status = laptop.status()
        assert (status.pending, status.refused, status.conflicts) == (0, 0, 0)

        with live_server.db_conn() as conn:
            counts = server_event_counts(conn, MATH_5)
            server_state = fold(server_doc(conn, MATH_5).events())
            rows = consolidated(conn, MATH_5)
            quarantined = conn.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        assert len(set(typed)) == len(typed)
        assert counts == dict.fromkeys([*typed, *other_ids], 1)  # each exactly once, no other
        assert set(server_state.events) == set(counts)
        assert not server_state.refusals
        assert quarantined == 0
        assert rows == expected_consolidated(server_state)

        # The other laptop, syncing through the same (healed) proxy, folds the same journal.
        assert other.sync().complete
        laptop_view = folded_view(laptop.book.state(MATH_5))
        assert folded_view(other.book.state(MATH_5)) == laptop_view
        assert folded_view(server_state) == laptop_view

        # A link that duplicates and reorders: every request body the laptop ever sent (whole,
        # or cut on the way), delivered again, twice, newest first, changes nothing.
        sv_before = journal_sv(live_server, MATH_5)
        token = laptop.store.get("token")
        bodies = [body for _, body in tap.requests]
        assert len(bodies) >= 10
        with httpx.Client(
            base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as http:
            for body in [*reversed(bodies), *bodies]:
                reply = post_sync(http, body)
                # a replayed push is a duplicate; a replayed digest is stale: the server
                # answers with its state vector (DEFERRED), and stores nothing either way
                assert outcome(reply, MATH_5) in (
                    wire.Outcome.UNCHANGED,
                    wire.Outcome.ACCEPTED,
                    wire.Outcome.DEFERRED,
                    None,
                )
        with live_server.db_conn() as conn:
            assert server_event_counts(conn, MATH_5) == counts
        assert journal_sv(live_server, MATH_5) == sv_before
        assert laptop.sync().complete
        assert laptop.status().pending == 0


def test_a_request_delivered_many_times_is_applied_once(live_server, laptops):
    rng = random.Random(7)
    laptop = laptops("math", live_server.url, name="laptop")
    typed = record_burst(laptop.book, MATH_5, rng, 15)
    engine = laptop.engine()
    request, _ = engine.build_request(engine.journal_ids())
    body = wire.encode(request)
    token = laptop.store.get("token")
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=20
    ) as http:
        # The same request arrives four times at once (a link or a proxy that repeats it).
        with ThreadPoolExecutor(4) as pool:
            replies = list(pool.map(lambda _: post_sync(http, body), range(4)))
        outcomes = sorted(outcome(r, MATH_5) for r in replies)
        assert outcomes == sorted([wire.Outcome.ACCEPTED] + [wire.Outcome.UNCHANGED] * 3)
        with live_server.db_conn() as conn:
            counts = server_event_counts(conn)
            updates = conn.execute("SELECT count(*) FROM journal_updates").fetchone()[0]
        assert counts == dict.fromkeys(typed, 1)
        sv = journal_sv(live_server, MATH_5)

        # More is typed and synced; then the old request arrives late, twice.
        typed += record_burst(laptop.book, MATH_5, rng, 5)
        assert laptop.sync().complete
        with live_server.db_conn() as conn:
            counts = server_event_counts(conn)
            updates = conn.execute("SELECT count(*) FROM journal_updates").fetchone()[0]
        sv = journal_sv(live_server, MATH_5)
        for _ in range(2):
            assert outcome(post_sync(http, body), MATH_5) is wire.Outcome.UNCHANGED
        with live_server.db_conn() as conn:
            assert server_event_counts(conn) == counts == dict.fromkeys(typed, 1)
            assert conn.execute("SELECT count(*) FROM journal_updates").fetchone()[0] == updates
        assert journal_sv(live_server, MATH_5) == sv

    assert laptop.sync().complete
    assert laptop.status().pending == 0


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_a_reply_cut_mid_body_resumes_from_where_it_stopped(live_server, laptops, fraction):
    with FaultProxy(live_server.port, PERFECT, seed=3) as proxy:
        other = laptops("math", proxy.url, name="other")
        bulk_record(other.book, MATH_5, lessons=30, marks_per_pupil=3, attendance=True)
        assert other.sync().complete
        clean = laptops("math", proxy.url, name="clean", first_sync=False)
        proxy.reset_stats()
        assert clean.sync().complete
        whole = proxy.stats.bytes_down
        assert whole > 10_000

        laptop = laptops("math", proxy.url, name="laptop", first_sync=False)
        proxy.reset_stats()
        proxy.set_profile(LinkProfile(cut_after_bytes=int(whole * fraction), max_cuts=1))
        # Cut once. A cut inside a reply's body is resumed over a new connection at once; a
        # cut before a reply's headers is a failed sync, retried as the background sync would.
        for _ in range(3):
            try:
                if laptop.sync().complete:
                    break
            except TemporaryFailure:
                continue
        else:
            pytest.fail("the sync did not complete after the link came back")

        stats = proxy.stats
        assert stats.cuts >= 1
        resent = stats.bytes_down - whole
        assert resent < 0.1 * whole * fraction + 1_000, (whole, stats.bytes_down)
        assert folded_view(laptop.book.state(MATH_5)) == folded_view(clean.book.state(MATH_5))
