"""Schema versions: numbered migrations applied by `journal-server upgrade`.

The schema has two parts (docs/DESIGN.md, «Schema versions and upgrades»):

- declarative and additive: `db.SCHEMA` (CREATE … IF NOT EXISTS), `db.ADDED_COLUMNS` and the
  directory triggers. Re-applied by every upgrade and at every start, it can only add, so a
  new table, index or nullable column needs no migration and can lose nothing;
- numbered migrations, for what moves or rewrites data (a backfill, a copy, a rename). Each
  runs once, in one transaction together with the row that records it in `schema_migrations`,
  so a failed migration leaves the database as it was.

Migration 1 is the baseline: the database the last release before migrations made (no
`schema_migrations` table, but its tables) is recognised and given what that release did at
every start (the lesson aggregates, consents copied per child); an empty file gets the whole
schema. A database whose version is higher than `LATEST` was made by a newer program and is
refused whole; one with migrations pending is refused at start until `journal-server upgrade`
has run, so that a region's several server processes never race to upgrade and a sysadmin
makes a backup first.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from server.storage import db


class SchemaError(Exception):
    """The database cannot be used by this program as it is; nothing was changed."""

    def __init__(self, message_ru: str):
        super().__init__(message_ru)
        self.message_ru = message_ru


@dataclass(frozen=True)
class Migration:
    version: int
    name: str  # what it does, for `journal-server upgrade` to print
    apply: Callable[[sqlite3.Connection], None]  # runs inside the migration's transaction


def _baseline(conn: sqlite3.Connection) -> None:
    """What the releases before numbered migrations did at every start, once more."""
    db.fill_lesson_aggregates(conn)
    db.copy_consents_per_child(conn)


def _mark_meaning(conn: sqlite3.Connection) -> None:
    """Issue 16: marks rows and personal files keep «4+», зач/незач, «н/а», «осв.»; the
    attendance summary counts from absences kept with their lesson's date."""
    db.fill_lesson_aggregates(conn)
    db.fill_mark_meaning(conn)


def _legacy_snils_keys(conn: sqlite3.Connection) -> None:
    """СНИЛС keys become HMAC-SHA256 under the server's secret. The СНИЛС is not stored, so the
    old unsalted keys cannot be recomputed: they are marked as legacy, still matched, and
    replaced by a keyed one the next time a list names that person."""
    db.mark_legacy_snils_keys(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "исходная схема: сводные данные уроков, согласия по детям", _baseline),
    Migration(
        2,
        "отметки «4+», «зач», «н/а», «осв.» в сводных данных и личных делах; пропуски по датам",
        _mark_meaning,
    ),
    Migration(
        3,
        "ключи СНИЛС с секретом сервера; старые ключи (без секрета) заменяются при следующей "
        "загрузке списка",
        _legacy_snils_keys,
    ),
)
LATEST = MIGRATIONS[-1].version

VERSIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)
"""


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows}


def version(conn: sqlite3.Connection) -> int:
    """The last migration applied; 0 for an empty file or one made before migrations."""
    if "schema_migrations" not in _tables(conn):
        return 0
    row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return row[0] or 0


def is_empty(conn: sqlite3.Connection) -> bool:
    return not _tables(conn)


def _too_new(found: int) -> SchemaError:
    return SchemaError(
        f"База данных создана более новой версией сервера (версия схемы {found}, эта программа "
        f"знает до {LATEST}). Обновите программу сервера; база не изменена."
    )


def pending(conn: sqlite3.Connection) -> list[Migration]:
    found = version(conn)
    if found > LATEST:
        raise _too_new(found)
    return [m for m in MIGRATIONS if m.version > found]


def _declare(conn: sqlite3.Connection) -> None:
    """The additive part: tables, columns, indexes and triggers that are missing."""
    # in one transaction: a new database commits (and syncs to disk) once, not once for each
    # of ~170 statements, and is never left with half a schema
    script = f"BEGIN;\n{db.SCHEMA}\n{db.DIRECTORY_TRIGGERS}\n{VERSIONS_TABLE};\nCOMMIT;"
    try:
        conn.executescript(script)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    with db.transaction(conn):
        db.add_columns(conn)
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
            (db.SCHEMA_VERSION,),
        )
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES (?, lower(hex(randomblob(8))))",
            (db.DIRECTORY_VERSION_KEY,),
        )
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)",
            (db.SNILS_SECRET_KEY, secrets.token_hex(32)),
        )


def upgrade(
    conn: sqlite3.Connection,
    *,
    on_step: Callable[[Migration], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> list[Migration]:
    """Bring the database to `LATEST`; returns the migrations applied (none if it was).
    A database newer than the program is refused before anything is written."""
    todo = pending(conn)
    _declare(conn)
    applied = []
    for migration in todo:
        with db.transaction(conn):
            # another process may have applied it since we looked: the write lock is ours now
            if version(conn) >= migration.version:
                continue
            if on_step is not None:
                on_step(migration)
            migration.apply(conn)
            conn.execute(
                "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, clock()),
            )
        applied.append(migration)
    return applied


def open_current(conn: sqlite3.Connection) -> None:
    """What the server and every chore do on opening the database: an empty file gets the
    whole schema; a database of this version gets whatever additive part it lacks; one that
    is newer, or older with migrations pending, is refused with nothing changed."""
    if is_empty(conn):
        upgrade(conn)
        return
    todo = pending(conn)
    if todo:
        raise SchemaError(
            f"База данных в версии схемы {version(conn)}, этой программе нужна {LATEST}. "
            "Сделайте резервную копию (journal-server backup ФАЙЛ) и обновите базу: "
            "journal-server upgrade. До этого сервер не запускается; база не изменена."
        )
    _declare(conn)
