"""Packages the server builds by itself: when a period (quarter, half-year) is closed for every
class of a school, and, where the school asked for it, after each month.

A period package holds the year's journals as they stand (summary sheets included), signed
with the school's key and numbered in the same chain as the year packages (kind `period`).
Each attempt is recorded in `archive_schedule_runs`; a failed one is shown on the archive page
to the records officer with its reason, and is tried again on the next day, not every tick.
The clock is a parameter, so tests move time instead of waiting for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from server.archive import keys
from server.archive.package import build_package
from server.errors import AppError
from server.storage.db import connect, transaction

logger = logging.getLogger("zhurnal.archive")

SERVER_LOGIN = "сервер"
RETRY_AFTER = 24 * 3600.0
RUNNING = "running"
TICK_SECONDS = 900.0


@dataclass(frozen=True)
class Planned:
    school_id: str
    year_id: str
    label: str  # the period id, or mYYYY-MM for a month
    title: str  # in Russian, for the archive page


def monthly(conn: sqlite3.Connection, school_id: str) -> bool:
    row = conn.execute(
        "SELECT monthly FROM archive_schedule WHERE school_id = ?", (school_id,)
    ).fetchone()
    return bool(row and row["monthly"])


def set_monthly(conn: sqlite3.Connection, school_id: str, on: bool, login: str) -> None:
    with transaction(conn):
        conn.execute(
            "INSERT OR REPLACE INTO archive_schedule (school_id, monthly, updated_at, updated_by) "
            "VALUES (?, ?, ?, ?)",
            (school_id, int(on), time.time(), login),
        )


def _months(starts: dt.date, ends: dt.date, today: dt.date) -> list[dt.date]:
    """First days of the year's months that are over by `today`."""
    found, month = [], starts.replace(day=1)
    while month <= ends:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        if following <= today:
            found.append(month)
        month = following
    return found


def due(conn: sqlite3.Connection, now: float) -> list[Planned]:
    """What should exist by `now` and has neither been built nor failed within a day."""
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    runs = {
        (r["school_id"], r["label"]): (r["state"], r["at"])
        for r in conn.execute("SELECT school_id, label, state, at FROM archive_schedule_runs")
    }
    planned: list[Planned] = []
    for year in conn.execute(
        "SELECT y.* FROM years y LEFT JOIN year_closures c ON c.year_id = y.id "
        "WHERE c.year_id IS NULL ORDER BY y.starts"
    ).fetchall():
        classes = {
            r["id"] for r in conn.execute("SELECT id FROM classes WHERE year_id = ?", (year["id"],))
        }
        if not classes:
            continue
        closed: dict[str, set[str]] = {}
        for r in conn.execute("SELECT class_id, period_id FROM period_closures"):
            closed.setdefault(r["period_id"], set()).add(r["class_id"])
        for period in conn.execute(
            "SELECT * FROM periods WHERE year_id = ? AND kind != 'year' ORDER BY starts",
            (year["id"],),
        ):
            if classes <= closed.get(period["id"], set()):
                planned.append(Planned(year["school_id"], year["id"], period["id"], period["name"]))
        if monthly(conn, year["school_id"]):
            starts, ends = (
                dt.date.fromisoformat(year["starts"]),
                dt.date.fromisoformat(year["ends"]),
            )
            for month in _months(starts, ends, today):
                planned.append(
                    Planned(year["school_id"], year["id"], f"m{month:%Y-%m}", f"{month:%m.%Y}")
                )
    result = []
    for plan in planned:
        state, at = runs.get((plan.school_id, plan.label), (None, 0.0))
        if state == "done" or (state == "failed" and now - at < RETRY_AFTER):
            continue
        if state == RUNNING and now - at < 3600:
            continue
        result.append(plan)
    return result


def _record(conn, plan: Planned, state: str, now: float, package: str = "", error: str = ""):
    with transaction(conn):
        conn.execute(
            "INSERT OR REPLACE INTO archive_schedule_runs (school_id, label, year_id, title, "
            "state, package, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (plan.school_id, plan.label, plan.year_id, plan.title, state, package, error, now),
        )


def _claim(conn: sqlite3.Connection, plan: Planned, now: float) -> bool:
    """Mark the plan as being built, unless another process did so within the hour (a server
    may run several processes, each with its scheduler thread)."""
    with transaction(conn):
        row = conn.execute(
            "SELECT state, at FROM archive_schedule_runs WHERE school_id = ? AND label = ?",
            (plan.school_id, plan.label),
        ).fetchone()
        if row and (row["state"] == "done" or (row["state"] == RUNNING and now - row["at"] < 3600)):
            return False
        _record(conn, plan, RUNNING, now)
    return True


def run_due(
    conn: sqlite3.Connection,
    *,
    folder_of: Callable[[str], Path],
    key_of: Callable[[str], Path],
    now: float,
    workers: int | None = None,
) -> list[tuple[Planned, str]]:
    """Build what is due; (plan, "done" or the reason it failed) for each."""
    outcomes = []
    for plan in due(conn, now):
        if not _claim(conn, plan, now):
            continue  # another server process of the same database is building it
        try:
            key = keys.load_private(key_of(plan.school_id))
            result = build_package(
                conn,
                out_dir=folder_of(plan.school_id),
                key=key,
                login=SERVER_LOGIN,
                year_id=plan.year_id,
                period=plan.label,
                scheduled_for=plan.school_id,
                now=dt.datetime.fromtimestamp(now, dt.UTC),
                workers=workers,
            )
        except (AppError, keys.ArchiveKeyError, OSError) as exc:
            reason = exc.message_ru if isinstance(exc, AppError) else str(exc)
            _record(conn, plan, "failed", now, error=reason)
            outcomes.append((plan, reason))
        except Exception:
            logger.exception("scheduled archive package %s failed", plan.label)
            reason = "Внутренняя ошибка при формировании пакета; подробности в журнале сервера."
            _record(conn, plan, "failed", now, error=reason)
            outcomes.append((plan, reason))
        else:
            _record(conn, plan, "done", now, package=result.name)
            outcomes.append((plan, "done"))
    return outcomes


def failures(conn: sqlite3.Connection, school_id: str) -> list[dict]:
    """Scheduled builds of the school that failed, for the records officer's page."""
    rows = conn.execute(
        "SELECT * FROM archive_schedule_runs WHERE school_id = ? AND state = 'failed' "
        "ORDER BY at DESC",
        (school_id,),
    )
    return [dict(r) for r in rows]


def start(
    database: Path,
    folder_of: Callable[[str], Path],
    key_of: Callable[[str], Path],
    *,
    clock: Callable[[], float] = time.time,
    every: float = TICK_SECONDS,
    stop: threading.Event | None = None,
) -> threading.Thread:
    """The server's scheduler thread: every `every` seconds, build what is due."""
    stop = stop or threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            conn = connect(database)
            try:
                run_due(conn, folder_of=folder_of, key_of=key_of, now=clock())
            except Exception:
                logger.exception("archive scheduler tick failed")
            finally:
                conn.close()

    thread = threading.Thread(target=loop, name="archive-scheduler", daemon=True)
    thread.start()
    return thread


def start_with_server(app) -> None:
    """on_startup: the scheduler thread of this server process (stopped on shutdown)."""
    config = app.state.config
    app.state.archive_scheduler_stop = threading.Event()
    start(
        config.database,
        lambda school_id: config.archive_folder / school_id,
        lambda school_id: keys.school_key_path(config.archive_key_path, school_id),
        stop=app.state.archive_scheduler_stop,
    )


def stop_with_server(app) -> None:
    stop = getattr(app.state, "archive_scheduler_stop", None)
    if stop is not None:
        stop.set()
