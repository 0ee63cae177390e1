"""Scheduled cleanup of what refused or unfinished requests leave behind.

Run at most once per `EVERY_SECONDS` (whichever server process notices first, the time kept
in the database) from the sync and upload routes. The clock is a parameter, so tests move it
by hand.
"""

from __future__ import annotations

import sqlite3
import time

from server.storage import attachments, journals, login_limits
from server.storage.db import get_meta, set_meta, transaction

EVERY_SECONDS = 3600
PARTIAL_UPLOAD_SECONDS = 24 * 3600  # an upload not finished in a day starts again
QUARANTINE_SECONDS = 180 * 24 * 3600  # refused updates are looked at within half a year
LOGIN_FAILURE_SECONDS = 24 * 3600
LAST_RUN_KEY = "housekeeping_last_run"


def run(conn: sqlite3.Connection, now: float) -> dict[str, int]:
    """Drop old unfinished uploads, old quarantine rows and old login failures."""
    with transaction(conn):
        partial = attachments.forget_partial_before(conn, now - PARTIAL_UPLOAD_SECONDS)
        refused = journals.forget_quarantine_before(conn, now - QUARANTINE_SECONDS)
        login_limits.forget_before(conn, now - LOGIN_FAILURE_SECONDS)
        set_meta(conn, LAST_RUN_KEY, repr(now))
    return {"partial_uploads": partial, "quarantine": refused}


def run_due(conn: sqlite3.Connection, now: float | None = None) -> bool:
    """Run the cleanup if the last run is older than `EVERY_SECONDS`; whether it ran."""
    now = time.time() if now is None else now
    last = get_meta(conn, LAST_RUN_KEY)
    if last is not None and now - float(last) < EVERY_SECONDS:
        return False
    run(conn, now)
    return True
