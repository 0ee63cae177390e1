"""Hybrid logical clock: orders events across devices whose wall clocks disagree.

A stamp is `<wall ms, 13 digits>-<counter, 6 digits>-<node>`, so string order is clock order.
Stamps arrive from laptops and are input like any other field: nothing here raises on any
string. `read_stamp` says whether a stamp is well-formed; everything else treats a malformed
stamp as the oldest possible one, so it can never win a conflict.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable

_STAMP = re.compile(r"([0-9]{13})-([0-9]{6})-([^\s]{1,43})")
# the wall times a stamp may carry and still name a calendar day (years 1..9999)
_MIN_MS = int(dt.datetime(1, 1, 2, tzinfo=dt.UTC).timestamp() * 1000)
_MAX_MS = int(dt.datetime(9999, 12, 30, tzinfo=dt.UTC).timestamp() * 1000)
_MSK = dt.timezone(dt.timedelta(hours=3))


def format_stamp(wall_ms: int, counter: int, node: str) -> str:
    return f"{wall_ms:013d}-{counter:06d}-{node}"


def read_stamp(stamp: object) -> tuple[int, int, str] | None:
    """(wall ms, counter, node) of a well-formed stamp; None for anything else."""
    if not isinstance(stamp, str):
        return None
    found = _STAMP.fullmatch(stamp)
    if found is None:
        return None
    return int(found[1]), int(found[2]), found[3]


def parse_stamp(stamp: object) -> tuple[int, int, str]:
    """(wall ms, counter, node); a malformed stamp reads as (0, 0, '') — older than any."""
    return read_stamp(stamp) or (0, 0, "")


def stamp_key(stamp: object) -> tuple[int, int, str]:
    """The order of stamps: the string order of well-formed ones, malformed ones first."""
    found = read_stamp(stamp)
    if found is None:
        return (-1, -1, stamp if isinstance(stamp, str) else "")
    return found


def stamp_date(stamp: object, tz: dt.tzinfo = _MSK) -> dt.date:
    """The calendar day (in `tz`, by default UTC+3) a stamp was made on; a malformed stamp
    or one beyond the calendar reads as the nearest day the calendar has."""
    wall_ms = min(max(parse_stamp(stamp)[0], _MIN_MS), _MAX_MS)
    return dt.datetime.fromtimestamp(wall_ms / 1000, tz=tz).date()


class Clock:
    """An HLC for one node; `observe` merges stamps seen from other nodes."""

    def __init__(self, node: str, last: str | None = None, now: Callable[[], float] = time.time):
        self.node = node
        self._now = now
        self._wall, self._counter = 0, 0
        if last:
            self._wall, self._counter, _ = parse_stamp(last)

    def tick(self) -> str:
        physical = int(self._now() * 1000)
        if physical > self._wall:
            self._wall, self._counter = physical, 0
        else:
            self._counter += 1
        return format_stamp(self._wall, self._counter, self.node)

    def observe(self, stamp: str) -> None:
        """Merge a stamp seen from another node; a malformed one is ignored."""
        wall, counter, _ = parse_stamp(stamp)
        if (wall, counter) > (self._wall, self._counter):
            self._wall, self._counter = wall, counter

    @property
    def last(self) -> str:
        return format_stamp(self._wall, self._counter, self.node)
