"""Clocks are input (issue 12, hole 2): the server checks every event's HLC stamp.

A teacher's device pushed marks stamped `zzz`, `abc-def-ghi`, a date in 2286 and one in 1970:
all were accepted, one of them made `/reports/conflicts` answer 500 for the whole school, and
a stamp from the future won every conflict. Now a malformed stamp, one made by another
device, one ahead of the server's clock or before the school year is refused whole, nothing
is stored, and the teacher reads in Russian to set the clock; every report reads any stored
stamp without failing.
"""

from __future__ import annotations

import datetime as dt
import time

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.reports.catalog import REPORTS, build
from server.reports.dataset import Filters
from server.storage import consolidated
from server.storage.db import transaction
from server.storage.directory import load_full
from shared import wire
from shared.fold import fold
from shared.hlc import format_stamp, read_stamp
from tests.factories import MATH_5
from tests.server.school_kit import (
    SYNC_TABLES,
    Replica,
    SchoolServer,
    Writer,
    is_russian,
)
from tests.shared.test_fold import CELL_S1, mark

Outcome = wire.Outcome
MS_2286 = int(dt.datetime(2286, 1, 1, tzinfo=dt.UTC).timestamp() * 1000)
MS_1970 = 86_400_000


def push_stamped(server: SchoolServer, stamp: str) -> wire.JournalReply:
    math = Writer(server.tokens["math"])
    replica = Replica(MATH_5)
    lesson = math.lesson("L1")
    replica.add(lesson, math.mark("L1", "s-1", 5, hlc=stamp))
    return server.push("math", replica.push())


def reports_all_render(server: SchoolServer) -> None:
    with server.db() as conn:
        directory = load_full(conn, school_id=None)
        for name in REPORTS:
            report = build(conn, directory, name, Filters())
            assert report.name


def stored_stamps_are_sane(server: SchoolServer) -> None:
    """Every stamp a laptop sent that the server kept is well-formed and not from the future."""
    latest = (time.time() + server.config.max_clock_ahead_seconds) * 1000
    for row in server.rows("SELECT hlc, device FROM events WHERE device != 'server'"):
        found = read_stamp(row["hlc"])
        assert found is not None, row
        assert found[2] == row["device"]
        assert found[0] <= latest


@pytest.mark.parametrize(
    ("stamp", "rule"),
    [
        ("zzz", "bad_stamp"),
        ("abc-def-ghi", "bad_stamp"),
        ("99999999999999999999-000000-x", "bad_stamp"),
        ("١٧٩١٠٠٠٠٠٠٠٠٠-000000-x", "bad_stamp"),  # digits, but not ASCII ones
        ("1791000000000-000000-another-device", "bad_stamp"),
        (format_stamp(MS_2286, 0, "DEVICE"), "clock_ahead"),
        (format_stamp(MS_1970, 0, "DEVICE"), "clock_behind"),
    ],
)
def test_a_forged_or_wrong_stamp_is_refused_whole_and_nothing_is_stored(
    server: SchoolServer, stamp: str, rule: str
) -> None:
    stamp = stamp.replace("DEVICE", server.tokens["math"]["device_id"])
    before = server.snapshot()
    reply = push_stamped(server, stamp)
    assert (reply.outcome, reply.rule) == (Outcome.REFUSED, rule)
    assert is_russian(reply.message_ru)
    assert len(reply.event_ids) == 1  # only the badly stamped entry is blamed
    assert server.snapshot() == before
    reports_all_render(server)


def test_a_laptop_clock_ahead_is_told_to_set_the_clock(server: SchoolServer) -> None:
    ahead = time.time() + server.config.max_clock_ahead_seconds + 3600
    device = server.tokens["math"]["device_id"]
    reply = push_stamped(server, format_stamp(int(ahead * 1000), 0, device))
    assert reply.rule == "clock_ahead"
    assert "Установите на компьютере правильные дату, время" in reply.message_ru
    # a clock a little ahead, within the allowed skew, is fine
    near = time.time() + server.config.max_clock_ahead_seconds / 2
    assert push_stamped(server, format_stamp(int(near * 1000), 0, device)).outcome is (
        Outcome.ACCEPTED
    )


def test_a_stamp_from_the_future_no_longer_wins_a_conflict(server: SchoolServer) -> None:
    """Two devices correct the same mark concurrently; the one stamped in 2286 is refused
    at the server, so the honest correction stands on every replica."""
    math = Writer(server.tokens["math"])
    base = Replica(MATH_5)
    lesson, first = math.lesson("L1"), math.mark("L1", "s-1", 3)
    base.add(lesson, first)
    assert server.push("math", base.push()).outcome is Outcome.ACCEPTED
    device = server.tokens["math"]["device_id"]
    future = Replica(MATH_5, state=base.doc.snapshot())
    since = future.doc.state_vector()
    future.add(
        math.mark("L1", "s-1", 2, supersedes=(first.id,), hlc=format_stamp(MS_2286, 0, device))
    )
    assert server.push("math", future.push(since=since)).rule == "clock_ahead"
    honest = Replica(MATH_5, state=base.doc.snapshot())
    since = honest.doc.state_vector()
    fixed = math.mark("L1", "s-1", 4, supersedes=(first.id,))
    honest.add(fixed)
    assert server.push("math", honest.push(since=since)).outcome is Outcome.ACCEPTED
    assert [r["value"] for r in server.rows("SELECT value FROM marks")] == [4]


def test_a_malformed_stamp_sorts_first_in_the_fold() -> None:
    """A replica holding an old malformed stamp (`zzz` sorted after every real one as a
    string) still decides conflicts by real clocks."""
    original = mark("m0", 3, 0)
    honest = mark("m2", 4, 10, "m0")
    forged = msgspec.structs.replace(mark("m1", 2, 1, "m0"), hlc="zzz")
    state = fold({e.id: e for e in (original, honest, forged)})
    assert state.cells[CELL_S1].value.id == "m2"


def test_every_report_survives_any_stored_stamp(server: SchoolServer) -> None:
    """Stamps stored before the check existed (or written by hand) break no report."""
    math = Writer(server.tokens["math"])
    replica = Replica(MATH_5)
    first = math.mark("L1", "s-1", 3)
    replica.add(math.lesson("L1"), first, math.mark("L1", "s-1", 4, supersedes=(first.id,)))
    replica.add(math.attendance("L1", "s-2"))
    assert server.push("math", replica.push()).outcome is Outcome.ACCEPTED
    bad = ["zzz", "abc-def-ghi", "99999999999999999999-000000-x", "", "-1-1-1", "\x00"]
    with server.db() as conn:
        for stamp in bad:
            with transaction(conn):
                for table in ("events", "lessons", "marks", "attendance"):
                    conn.execute(f"UPDATE {table} SET hlc = ?", (stamp,))
                consolidated.rebuild_lesson_aggregates(conn)
            reports_all_render(server)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    stamp=st.one_of(
        st.text(max_size=30),
        st.builds(
            lambda wall, counter, node: format_stamp(wall, counter, node),
            st.integers(min_value=0, max_value=10**13 - 1),
            st.integers(min_value=0, max_value=999_999),
            st.sampled_from(["DEVICE", "x", "d-000000000000", "DEVICE "]),
        ),
        st.builds(
            lambda offset: format_stamp(int((time.time() + offset) * 1000), 0, "DEVICE"),
            st.integers(min_value=-400 * 86400, max_value=86400),
        ),
    )
)
def test_fuzzed_stamps_through_the_sync_endpoint(server: SchoolServer, stamp: str) -> None:
    """Whatever a device stamps, the server stores only sane stamps and every report renders."""
    stamp = stamp.replace("DEVICE", server.tokens["math"]["device_id"])
    reply = push_stamped(server, stamp)
    assert reply.outcome in (Outcome.ACCEPTED, Outcome.REFUSED)
    if reply.outcome is Outcome.REFUSED:
        assert reply.rule in ("bad_stamp", "clock_ahead", "clock_behind", "malformed_event")
    stored_stamps_are_sane(server)
    reports_all_render(server)


def test_the_sync_tables_are_what_the_stamp_tests_watch() -> None:
    assert {"events", "marks", "lessons", "attendance"} <= set(SYNC_TABLES)
