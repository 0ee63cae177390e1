"""The school's own clock: its time zone (a school setting) and the days its years span.

Russia keeps no summer time, so a zone is a fixed offset from UTC: Калининград +2, Москва +3,
Томск +7… A school with no setting is on Moscow time.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time

DEFAULT_OFFSET_MINUTES = 180


def zone(conn: sqlite3.Connection, school_id: str | None) -> dt.timezone:
    row = conn.execute(
        "SELECT utc_offset_minutes FROM school_time_zones WHERE school_id = ?", (school_id,)
    ).fetchone()
    minutes = row["utc_offset_minutes"] if row else DEFAULT_OFFSET_MINUTES
    return dt.timezone(dt.timedelta(minutes=minutes))


def set_zone(conn: sqlite3.Connection, school_id: str, offset_minutes: int) -> None:
    if not -12 * 60 <= offset_minutes <= 14 * 60:
        raise ValueError(offset_minutes)
    conn.execute(
        "INSERT INTO school_time_zones (school_id, utc_offset_minutes) VALUES (?, ?) "
        "ON CONFLICT(school_id) DO UPDATE SET utc_offset_minutes = excluded.utc_offset_minutes",
        (school_id, offset_minutes),
    )


def today(conn: sqlite3.Connection, school_id: str | None, now: float | None = None) -> dt.date:
    """Today's date at the school, by the server's clock."""
    moment = time.time() if now is None else now
    return dt.datetime.fromtimestamp(moment, tz=zone(conn, school_id)).date()


def year_span(conn: sqlite3.Connection, year_id: str) -> tuple[str, dt.date, dt.date] | None:
    """(school id, first day, last day) of a school year, or None if there is no such year."""
    row = conn.execute(
        "SELECT school_id, starts, ends FROM years WHERE id = ?", (year_id,)
    ).fetchone()
    if row is None:
        return None
    return (
        row["school_id"],
        dt.date.fromisoformat(row["starts"]),
        dt.date.fromisoformat(row["ends"]),
    )


def year_starts_ms(conn: sqlite3.Connection, year_id: str) -> int | None:
    """The first moment of a school year at its school (epoch ms), or None."""
    span = year_span(conn, year_id)
    if span is None:
        return None
    school_id, starts, _ = span
    first = dt.datetime.combine(starts, dt.time(0), tzinfo=zone(conn, school_id))
    return int(first.timestamp() * 1000)
