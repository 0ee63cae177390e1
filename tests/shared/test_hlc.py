"""The hybrid logical clock: order across devices whose wall clocks disagree."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from shared.hlc import Clock, format_stamp, parse_stamp, stamp_date

MSK = dt.timezone(dt.timedelta(hours=3))
T0 = 1_791_000_000.0  # seconds, 2026-10-03


class FakeWall:
    """A wall clock the test moves by hand, backwards too."""

    def __init__(self, seconds: float = T0) -> None:
        self.seconds = seconds

    def __call__(self) -> float:
        return self.seconds


def test_ticks_increase_while_the_wall_clock_runs_forward() -> None:
    wall = FakeWall()
    clock = Clock("laptop", now=wall)
    first = clock.tick()
    wall.seconds += 1
    second = clock.tick()
    assert first < second
    assert parse_stamp(second) == (int((T0 + 1) * 1000), 0, "laptop")


def test_ticks_increase_even_when_the_wall_clock_goes_backwards() -> None:
    wall = FakeWall()
    clock = Clock("laptop", now=wall)
    stamps = [clock.tick()]
    for jump in (-3600, 0, -86_400, 0.0005, 10):
        wall.seconds += jump
        stamps.append(clock.tick())
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


def test_clock_restarted_from_its_last_stamp_does_not_go_back() -> None:
    wall = FakeWall()
    last = Clock("laptop", now=wall).tick()
    wall.seconds -= 600  # the laptop's battery died and the clock reset
    restarted = Clock("laptop", last=last, now=wall)
    assert restarted.tick() > last


def test_observe_moves_the_clock_past_a_remote_stamp() -> None:
    wall = FakeWall()
    clock = Clock("laptop", now=wall)
    remote = format_stamp(int((T0 + 86_400) * 1000), 5, "server")  # a day ahead
    clock.observe(remote)
    ours = clock.tick()
    assert parse_stamp(ours)[:2] > parse_stamp(remote)[:2]
    assert ours > remote


def test_observe_of_an_older_stamp_changes_nothing() -> None:
    wall = FakeWall()
    clock = Clock("laptop", now=wall)
    ours = clock.tick()
    clock.observe(format_stamp(int((T0 - 60) * 1000), 9, "other"))
    assert clock.last == ours


_stamps = st.tuples(
    st.integers(0, 10**13 - 1),
    st.integers(0, 10**6 - 1),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=12),
)


@given(_stamps, _stamps)
def test_string_order_of_stamps_is_clock_order(a: tuple, b: tuple) -> None:
    sa, sb = format_stamp(*a), format_stamp(*b)
    assert (sa < sb) == (a < b)
    assert (sa == sb) == (a == b)
    assert parse_stamp(sa) == a


def test_stamp_date_is_the_moscow_calendar_day() -> None:
    def ms(moment: dt.datetime) -> int:
        return int(moment.timestamp() * 1000)

    just_after_midnight = dt.datetime(2026, 9, 1, 0, 30, tzinfo=MSK)  # 31.08 21:30 UTC
    assert stamp_date(format_stamp(ms(just_after_midnight), 0, "n")) == dt.date(2026, 9, 1)
    late_evening = dt.datetime(2026, 9, 1, 23, 59, tzinfo=MSK)
    assert stamp_date(format_stamp(ms(late_evening), 7, "n")) == dt.date(2026, 9, 1)
    utc_evening = dt.datetime(2026, 9, 1, 22, 0, tzinfo=dt.UTC)  # 02.09 01:00 MSK
    assert stamp_date(format_stamp(ms(utc_evening), 0, "n")) == dt.date(2026, 9, 2)
