"""Hybrid logical clock: orders events across devices whose wall clocks disagree.

A stamp is `<wall ms, 13 digits>-<counter, 6 digits>-<node>`, so string order is clock order.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable


def format_stamp(wall_ms: int, counter: int, node: str) -> str:
    return f"{wall_ms:013d}-{counter:06d}-{node}"


def parse_stamp(stamp: str) -> tuple[int, int, str]:
    wall, counter, node = stamp.split("-", 2)
    return int(wall), int(counter), node


def stamp_date(stamp: str) -> dt.date:
    """The calendar day (UTC+3, the schools' usual zone is near enough) a stamp was made on."""
    wall_ms, _, _ = parse_stamp(stamp)
    moment = dt.datetime.fromtimestamp(wall_ms / 1000, tz=dt.timezone(dt.timedelta(hours=3)))
    return moment.date()


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
        wall, counter, _ = parse_stamp(stamp)
        if (wall, counter) > (self._wall, self._counter):
            self._wall, self._counter = wall, counter

    @property
    def last(self) -> str:
        return format_stamp(self._wall, self._counter, self.node)
