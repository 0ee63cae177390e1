"""Schema versions: a database made by the last release before migrations (a file kept in
tests/fixtures, built by tests/fixtures/make_release_db.py) is refused at start until
`journal-server upgrade`, then upgrades with nothing lost and every report still equal to its
row-by-row reference; a database newer than the program is refused with nothing changed."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from server.app import create_app
from server.cli import main
from server.config import ServerConfig
from server.reports.catalog import build
from server.storage import directory as directory_storage
from server.storage import migrations
from server.storage.db import connect, create_schema
from server.storage.engine import engine_for
from tests.e2e.workload import consolidated, expected_consolidated, folded, server_doc
from tests.server.reports_reference import NEEDS, build_reference
from tests.server.test_backup import dump_digest as digest
from tests.server.test_report_equivalence import (
    assert_aggregates_equal_a_recount,
    filters_to_check,
)

RELEASE_1 = Path(__file__).parents[1] / "fixtures" / "release-1.sqlite"


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    path = tmp_path / "server" / "zhurnal.sqlite"
    path.parent.mkdir()
    shutil.copyfile(RELEASE_1, path)
    return path


def shape(conn: sqlite3.Connection) -> dict[str, object]:
    """Every table's columns, every index and trigger: what a schema is, SQL text aside."""
    objects = conn.execute(
        "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    result: dict[str, object] = {}
    for kind, name in objects:
        columns = conn.execute(f"PRAGMA table_info({name})").fetchall() if kind == "table" else []
        result[name] = (kind, sorted((c[1], c[2], c[3], c[5]) for c in columns))
    return result


def test_a_release_database_is_refused_at_start_until_upgraded(old_db, capsys):
    before = digest(old_db)
    with pytest.raises(migrations.SchemaError, match="journal-server upgrade"):
        create_app(ServerConfig(database=old_db))
    assert main(["--db", str(old_db), "quarantine"]) == 2
    err = capsys.readouterr().err
    assert "версии схемы 0" in err and "journal-server upgrade" in err
    assert digest(old_db) == before  # refused: nothing written

    assert main(["--db", str(old_db), "upgrade"]) == 0
    out = capsys.readouterr().out
    assert f"версия схемы 0 → {migrations.LATEST}" in out
    assert main(["--db", str(old_db), "upgrade"]) == 0
    assert "обновлять нечего" in capsys.readouterr().out
    assert main(["--db", str(old_db), "quarantine"]) == 0


def test_the_upgraded_release_database_keeps_everything_and_reports_equal_the_fold(
    old_db, tmp_path
):
    conn = connect(old_db)
    counts = {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("events", "journals", "marks", "attendance", "lessons", "accounts")
    }
    assert counts["events"] > 300 and counts["marks"] > 50
    assert [m.version for m in migrations.upgrade(conn)] == [1, 2, 3]
    assert migrations.version(conn) == migrations.LATEST
    for table, count in counts.items():
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == count

    fresh = connect(tmp_path / "fresh.sqlite")
    create_schema(fresh)
    assert shape(conn) == shape(fresh)  # the same schema a new database gets
    fresh.close()

    # the consolidated rows are the fold of each journal's document
    for (journal_id,) in conn.execute("SELECT id FROM journals").fetchall():
        state = folded(server_doc(conn, journal_id))
        assert consolidated(conn, journal_id) == expected_consolidated(state)
    conn.row_factory = sqlite3.Row
    assert_aggregates_equal_a_recount(conn)
    directory = directory_storage.load_full(conn)
    for filters in filters_to_check(random.Random(5)):
        for name in NEEDS:
            new = build(conn, directory, name, filters)
            old = build_reference(conn, directory, name, filters)
            assert (new.header, new.rows) == (old.header, old.rows) or (
                name == "control" and sorted(new.rows, key=repr) == sorted(old.rows, key=repr)
            ), (name, filters)
    conn.close()
    create_app(ServerConfig(database=old_db))  # starts now


def test_a_database_newer_than_the_program_is_refused_whole(old_db, capsys):
    conn = connect(old_db)
    migrations.upgrade(conn)
    conn.execute(
        "INSERT INTO schema_migrations VALUES (?, 'из будущего', 0)", (migrations.LATEST + 1,)
    )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = digest(old_db)
    for argv in (["upgrade"], ["quarantine"]):
        assert main(["--db", str(old_db), *argv]) == 2
        assert "более новой версией сервера" in capsys.readouterr().err
    with pytest.raises(migrations.SchemaError, match="Обновите программу сервера"):
        create_app(ServerConfig(database=old_db))
    assert digest(old_db) == before


def test_an_empty_file_gets_the_whole_schema_at_start(tmp_path):
    path = tmp_path / "new.sqlite"
    create_app(ServerConfig(database=path))
    conn = connect(path)
    assert migrations.version(conn) == migrations.LATEST
    conn.close()


def test_upgrade_waits_for_the_server_to_stop(old_db, capsys):
    with engine_for(old_db).serving():  # as a running server process holds it
        assert main(["--db", str(old_db), "upgrade"]) == 2
        assert "остановите его" in capsys.readouterr().err
    conn = connect(old_db)
    assert migrations.version(conn) == 0
    conn.close()
