"""The steps of whole-database chores that differ between database engines.

Backup, restore and «is a server running on this database?» are all the engine-specific work
that `journal-server backup`, `restore` and `upgrade` need; everything else they do (checksums,
refusals, progress, what a restore changes inside the database) is in server/storage/backup.py
and works for any engine. SQLite is the one engine today; a PostgreSQL engine (pg_dump -Fc /
pg_restore, `pg_try_advisory_lock` for the running server) is a second class with these four
methods, chosen by `engine_for` from a `postgresql://` address.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

Progress = Callable[[int, int], None]  # (done, total), in the engine's units

BACKUP_STEP_PAGES = 2048  # 8 MB a step at SQLite's 4 KB pages: progress a few times a second


class EngineError(Exception):
    def __init__(self, message_ru: str):
        super().__init__(message_ru)
        self.message_ru = message_ru


class Engine(Protocol):
    label: str  # for messages: the file or the server address

    def backup(self, out: Path, progress: Progress | None = None) -> None:
        """Write a consistent copy of the whole database to `out` while the server may run."""
        ...

    def restore(self, source: Path, progress: Progress | None = None) -> None:
        """Replace the whole database with the backup `source` (the server is stopped)."""
        ...

    def serving(self) -> contextlib.AbstractContextManager[None]:
        """Held by a running server process for as long as it runs; several may hold it.
        Refused while `exclusive` is held (a restore or an upgrade is under way)."""
        ...

    def exclusive(self, doing_ru: str) -> contextlib.AbstractContextManager[None]:
        """Held by a restore or an upgrade; refused while any server process runs."""
        ...


class SQLiteEngine:
    """One file. Backups use SQLite's online backup API inside one read transaction: in WAL
    mode the server's writers go on while the copy is made, and the copy is the database as
    of the moment the transaction began (the API would otherwise restart on every write)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.label = str(path)

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + "-server.lock")

    def backup(self, out: Path, progress: Progress | None = None) -> None:
        if not self.path.exists():
            raise EngineError(f"Базы данных {self.path} нет: копировать нечего.")
        source = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        target = sqlite3.connect(out, isolation_level=None)
        # The copy is flushed to disk step by step: written whole and flushed at the end, its
        # gigabytes of dirty pages made the server's commits wait (slowest 60 -> 661 ms in
        # docs/BENCHMARKS.md) for the file system's journal. A cut copy is thrown away anyway,
        # so it needs no journal of its own.
        flush = os.open(out, os.O_RDONLY)
        try:
            target.execute("PRAGMA journal_mode=OFF")
            target.execute("PRAGMA synchronous=OFF")
            source.execute("PRAGMA busy_timeout=30000")
            source.execute("BEGIN")
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot
            report = _pages(progress)

            def step(status: int, remaining: int, total: int) -> None:
                os.fsync(flush)
                if report is not None:
                    report(status, remaining, total)

            source.backup(target, pages=BACKUP_STEP_PAGES, progress=step)
            source.execute("COMMIT")
            target.execute("PRAGMA journal_mode=DELETE")  # the copy is one file, no -wal
        finally:
            os.close(flush)
            target.close()
            source.close()

    def restore(self, source: Path, progress: Progress | None = None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True, isolation_level=None)
        target = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            target.execute("PRAGMA busy_timeout=30000")
            backup.backup(target, pages=BACKUP_STEP_PAGES, progress=_pages(progress))
            target.execute("PRAGMA journal_mode=WAL")
            target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            target.close()
            backup.close()

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """A shared lock on a file beside the database, dropped by the kernel when the process
        ends however it ends. (Not on the database file itself: closing another descriptor of
        that file would drop SQLite's own locks.)"""
        with self._locked(fcntl.LOCK_SH) as held:
            if not held:
                raise EngineError(
                    f"База {self.path} сейчас восстанавливается или обновляется: сервер "
                    "запустится после того, как это закончится."
                )
            yield

    @contextlib.contextmanager
    def exclusive(self, doing_ru: str) -> Iterator[None]:
        with self._locked(fcntl.LOCK_EX) as held:
            if not held:
                raise EngineError(
                    f"Сервер журнала работает с базой {self.path}: остановите его, чтобы "
                    f"{doing_ru}. Ничего не изменено."
                )
            yield

    @contextlib.contextmanager
    def _locked(self, kind: int) -> Iterator[bool]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(handle, kind | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
            else:
                yield True
        finally:
            os.close(handle)


def _pages(progress: Progress | None):
    if progress is None:
        return None

    def report(status: int, remaining: int, total: int) -> None:
        progress(total - remaining, total)

    return report


def engine_for(database: Path | str) -> Engine:
    """The engine of a database address: a path is SQLite."""
    text = str(database)
    if text.startswith(("postgresql://", "postgres://")):
        raise EngineError(
            "PostgreSQL пока не поддерживается этой версией сервера: укажите файл базы SQLite."
        )
    return SQLiteEngine(Path(text))
