"""Archive builds started from the web page: a worker thread, its progress kept in the database.

A year's package of a large school takes minutes, longer than a page request may. The page
starts a job and shows its progress bar; the job's row says how far it got, so any server
process (and a page reloaded after a restart) shows the same. A job whose worker stopped
answering (the server was restarted mid-build) counts as interrupted: its half-built folder is
a hidden `.partial` one that the next build removes, and the archive chain is untouched.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

import msgspec

from server.archive import keys
from server.archive.package import build_package
from server.errors import AppError, BadRequest
from server.storage.db import connect, transaction

logger = logging.getLogger("zhurnal.archive")

RUNNING, DONE, FAILED, INTERRUPTED = "running", "done", "failed", "interrupted"
STALE_AFTER = 120.0  # seconds without a heartbeat: the worker is gone
HEARTBEAT_EVERY = 0.5


class ArchiveJob(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    year_id: str | None
    journal_id: str | None
    login: str
    state: str
    done: int
    total: int
    started_at: float
    heartbeat: float
    finished_at: float | None
    package: str | None
    sha256: str | None
    files: int | None
    payload_bytes: int | None
    error: str | None

    @property
    def percent(self) -> int:
        return 100 * self.done // self.total if self.total else 0

    @property
    def running(self) -> bool:
        return self.state == RUNNING


def _job(row: sqlite3.Row, now: float) -> ArchiveJob:
    job = ArchiveJob(**dict(row))
    if job.running and now - job.heartbeat > STALE_AFTER:
        return msgspec.structs.replace(job, state=INTERRUPTED)
    return job


def get(conn: sqlite3.Connection, job_id: int) -> ArchiveJob | None:
    row = conn.execute("SELECT * FROM archive_jobs WHERE id = ?", (job_id,)).fetchone()
    return _job(row, time.time()) if row else None


def recent(conn: sqlite3.Connection, limit: int = 10) -> list[ArchiveJob]:
    now = time.time()
    rows = conn.execute("SELECT * FROM archive_jobs ORDER BY id DESC LIMIT ?", (limit,))
    return [_job(r, now) for r in rows]


def start(
    database: Path,
    *,
    out_dir: Path,
    key_path: Path,
    login: str,
    year_id: str | None = None,
    journal_id: str | None = None,
) -> int:
    """Record a job and start its worker; refuses while another build is running."""
    if not key_path.exists():
        raise BadRequest(
            "Ключ подписи архива не создан. Технический специалист создаёт его командой "
            "«journal-server archive-key init»; затем повторите."
        )
    conn = connect(database)
    try:
        with transaction(conn):
            now = time.time()
            busy = conn.execute(
                "SELECT id FROM archive_jobs WHERE state = ? AND heartbeat > ?",
                (RUNNING, now - STALE_AFTER),
            ).fetchone()
            if busy:
                raise BadRequest(
                    f"Архив уже формируется (задание № {busy['id']}): дождитесь его окончания."
                )
            job_id = conn.execute(
                "INSERT INTO archive_jobs (year_id, journal_id, login, state, started_at, "
                "heartbeat) VALUES (?, ?, ?, ?, ?, ?)",
                (year_id, journal_id, login, RUNNING, now, now),
            ).lastrowid
    finally:
        conn.close()
    worker = threading.Thread(
        target=run,
        args=(database, job_id),
        kwargs={
            "out_dir": out_dir,
            "key_path": key_path,
            "login": login,
            "year_id": year_id,
            "journal_id": journal_id,
        },
        name=f"archive-job-{job_id}",
        daemon=True,
    )
    worker.start()
    return int(job_id)


def run(
    database: Path,
    job_id: int,
    *,
    out_dir: Path,
    key_path: Path,
    login: str,
    year_id: str | None,
    journal_id: str | None,
) -> None:
    """The worker: build the package, reporting progress into the job's row."""
    conn = connect(database)
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        now = time.time()
        if now - last < HEARTBEAT_EVERY and done < total:
            return
        last = now
        conn.execute(
            "UPDATE archive_jobs SET done = ?, total = ?, heartbeat = ? WHERE id = ?",
            (done, total, now, job_id),
        )

    try:
        key = keys.load_private(key_path)
        result = build_package(
            conn,
            out_dir=out_dir,
            key=key,
            login=login,
            year_id=year_id,
            journal_id=journal_id,
            progress=progress,
        )
    except (AppError, keys.ArchiveKeyError) as exc:
        message = exc.message_ru if isinstance(exc, AppError) else str(exc)
        _finish(conn, job_id, FAILED, error=message)
    except Exception:
        logger.exception("archive job %s failed", job_id)
        _finish(
            conn,
            job_id,
            FAILED,
            error="Внутренняя ошибка при формировании архива; подробности в журнале сервера.",
        )
    else:
        _finish(
            conn,
            job_id,
            DONE,
            package=str(result.path),
            sha256=result.sha256,
            files=result.files,
            payload_bytes=result.payload_bytes,
        )
    finally:
        conn.close()


def _finish(conn: sqlite3.Connection, job_id: int, state: str, **fields: object) -> None:
    now = time.time()
    sets = ", ".join(f"{name} = ?" for name in fields)
    conn.execute(
        f"UPDATE archive_jobs SET state = ?, finished_at = ?, heartbeat = ?"
        f"{', ' + sets if sets else ''} WHERE id = ?",
        (state, now, now, *fields.values(), job_id),
    )
