"""Backup and restore of the whole server database, whatever its engine.

A backup is the engine's consistent copy (server/storage/engine.py) and, beside it, a checksum
file in `sha256sum` format (`OUT.sha256`: `sha256sum -c` checks it too). A restore checks the
checksum, that no server runs on the database and that this program can read the backup's
schema, and only then replaces the database. What the restored server then does differently
is written into it here: it writes under a new Yjs client id of its own (the old one's clocks
past the backup are already on laptops, and a reused clock would be a different entry under
the same name), and it records where it came from. Laptops that synced after the backup bring
back what it lost at their next sync (client_tui/services/sync.py, docs/DESIGN.md).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from server.storage import migrations
from server.storage.db import connect, get_meta, set_meta, transaction
from server.storage.engine import EngineError, Progress, engine_for

CHUNK = 1024 * 1024
RESTORED_KEY = "restored_from"  # meta: the backup this database was last restored from


class BackupError(EngineError):
    """A backup or restore refused; nothing was changed."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    checksum_path: Path
    sha256: str
    size: int


def checksum_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".sha256")


def _sha256(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
            done += len(block)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


def backup(
    database: Path | str,
    out: Path,
    *,
    copy_progress: Progress | None = None,
    sum_progress: Progress | None = None,
) -> BackupResult:
    """Copy the database to `out` (written beside and renamed when whole: a cut backup never
    looks finished) and write `out.sha256`."""
    if out.exists() and out.is_dir():
        raise BackupError(f"{out} — это папка: укажите имя файла резервной копии.")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        engine_for(database).backup(partial, copy_progress)
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        sha = _sha256(partial, sum_progress)
        os.replace(partial, out)
        _fsync_folder(out.parent)
    finally:
        partial.unlink(missing_ok=True)
    sums = checksum_path(out)
    sums.write_text(f"{sha}  {out.name}\n", encoding="utf-8")
    return BackupResult(out, sums, sha, out.stat().st_size)


def _fsync_folder(folder: Path) -> None:
    """The rename itself survives a power cut."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def verify(source: Path, progress: Progress | None = None) -> str:
    """The backup's SHA-256 if it matches its checksum file; a Russian refusal otherwise."""
    if not source.is_file():
        raise BackupError(f"Файла резервной копии {source} нет.")
    sums = checksum_path(source)
    if not sums.is_file():
        raise BackupError(
            f"Рядом с копией нет файла контрольной суммы {sums.name}: без него копию не "
            "восстановить (нельзя убедиться, что она цела). Ничего не изменено."
        )
    try:
        expected = sums.read_text(encoding="utf-8").split()[0].lower()
    except (IndexError, UnicodeDecodeError):
        expected = ""
    actual = _sha256(source, progress)
    if actual != expected:
        raise BackupError(
            f"Контрольная сумма копии {source.name} не совпадает с записанной в {sums.name}: "
            "копия повреждена или подменена. Ничего не изменено."
        )
    return actual


def _readable_schema(source: Path) -> None:
    """The backup is a journal database this program can run (perhaps after an upgrade)."""
    try:
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            conn.row_factory = sqlite3.Row
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("quick_check")
            if "meta" not in {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }:
                raise sqlite3.DatabaseError("no meta")
            found = migrations.version(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            f"{source.name} — не резервная копия базы журнала или она повреждена. "
            "Ничего не изменено."
        ) from exc
    if found > migrations.LATEST:
        raise BackupError(
            f"Копия {source.name} сделана более новой версией сервера (версия схемы {found}, "
            f"эта программа знает до {migrations.LATEST}): обновите программу сервера. "
            "Ничего не изменено."
        )


def restore(
    database: Path | str,
    source: Path,
    *,
    sum_progress: Progress | None = None,
    copy_progress: Progress | None = None,
    clock=time.time,
) -> str:
    """Replace the database with the backup `source`; returns its SHA-256."""
    sha = verify(source, sum_progress)
    _readable_schema(source)
    engine = engine_for(database)
    with engine.exclusive("восстановить базу из копии"):
        engine.restore(source, copy_progress)
        conn = connect(database)
        try:
            _after_restore(conn, source, sha, clock())
        finally:
            conn.close()
    return sha


def _after_restore(conn: sqlite3.Connection, source: Path, sha: str, now: float) -> None:
    """A new client id for the server's own entries (made at its first sync, by
    server/sync/service.py); where the database came from."""
    with transaction(conn):
        conn.execute("DELETE FROM meta WHERE key = 'server_client_id'")
        previous = get_meta(conn, RESTORED_KEY)
        note = f"{source.name} {sha[:16]} {now:.0f}"
        set_meta(conn, RESTORED_KEY, f"{previous}\n{note}" if previous else note)
