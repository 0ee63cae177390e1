"""`journal-server backup` and `restore`: a consistent copy while writers go on, a checksum a
sysadmin can check with sha256sum, and restores refused (with nothing changed) when the copy
is damaged, not a journal database, from a newer program, or the server runs."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import threading
from collections import Counter
from pathlib import Path

import pytest

from server.cli import main
from server.config import ServerConfig
from server.storage import backup, engine, migrations
from server.storage.db import connect, create_schema, get_meta, transaction


def dump_digest(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "server" / "zhurnal.sqlite"
    conn = connect(path)
    create_schema(conn)
    with transaction(conn):  # some pages to copy: a few MB of quarantined bodies
        for n in range(200):
            conn.execute(
                "INSERT INTO quarantine (received_at, rule, message_ru, body) VALUES (?, ?, ?, ?)",
                (n, "r", "м", bytes(16 * 1024)),
            )
    conn.close()
    return path


def test_a_backup_taken_while_writers_commit_is_one_consistent_moment(db, tmp_path, monkeypatch):
    """Each writer transaction adds two rows; the copy holds both or neither of every one,
    although the copy is made in hundreds of small steps with commits in between."""
    monkeypatch.setattr(engine, "BACKUP_STEP_PAGES", 8)
    stop = threading.Event()
    committed = []

    def write() -> None:
        conn = connect(db)
        try:
            n = 0
            while not stop.is_set():
                n += 1
                with transaction(conn):
                    for _ in range(2):
                        conn.execute(
                            "INSERT INTO audit_log (at, login, role, action, detail) "
                            "VALUES (0, 'w', 'sysadmin', 'test', ?)",
                            (str(n),),
                        )
                committed.append(n)
        finally:
            conn.close()

    writer = threading.Thread(target=write)
    writer.start()
    steps = []
    try:
        while not committed:  # the writer is under way before the copy starts
            stop.wait(0.001)
        result = backup.backup(
            db, tmp_path / "copy.sqlite", copy_progress=lambda d, t: steps.append(d)
        )
    finally:
        stop.set()
        writer.join()
    assert len(steps) > 50  # many steps, with the writer committing between them
    copy = sqlite3.connect(result.path)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    pairs = Counter(r[0] for r in copy.execute("SELECT detail FROM audit_log"))
    copy.close()
    assert pairs and set(pairs.values()) == {2}
    assert len(pairs) <= len(committed)


def test_the_checksum_file_is_sha256sum_format(db, tmp_path, capsys):
    out = tmp_path / "backups" / "monday.sqlite"
    assert main(["--db", str(db), "backup", str(out)]) == 0
    assert "контрольная сумма SHA-256 в monday.sqlite.sha256" in capsys.readouterr().out
    check = subprocess.run(
        ["sha256sum", "-c", "monday.sqlite.sha256"], cwd=out.parent, capture_output=True
    )
    assert check.returncode == 0, check.stdout
    assert not list(out.parent.glob("*.partial"))


def test_restore_brings_the_copy_back_under_a_new_server_client_id(db, tmp_path, capsys):
    out = tmp_path / "copy.sqlite"
    conn = connect(db)
    with transaction(conn):
        conn.execute("INSERT INTO meta VALUES ('server_client_id', '12345')")
    conn.close()
    backup.backup(db, out)
    at_backup = dump_digest(out)
    conn = connect(db)
    with transaction(conn):
        conn.execute("DELETE FROM quarantine WHERE received_at < 100")  # the day after
    conn.close()

    assert main(["--db", str(db), "restore", str(out)]) == 0
    assert "База восстановлена" in capsys.readouterr().out
    conn = connect(db)
    assert conn.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 200
    assert get_meta(conn, "server_client_id") is None  # the next sync makes a new one
    assert "copy.sqlite" in get_meta(conn, backup.RESTORED_KEY)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert dump_digest(out) == at_backup  # the copy itself is untouched


def test_restore_onto_a_new_machine_creates_the_database(db, tmp_path):
    out = tmp_path / "copy.sqlite"
    backup.backup(db, out)
    target = tmp_path / "new-server" / "var" / "zhurnal.sqlite"
    assert main(["--db", str(target), "restore", str(out)]) == 0
    conn = connect(target)
    assert conn.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 200
    conn.close()


def _refused(db: Path, source: Path, capsys, message: str) -> None:
    before = dump_digest(db)
    assert main(["--db", str(db), "restore", str(source)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Ничего не изменено" in err
    assert dump_digest(db) == before


def test_a_damaged_copy_is_refused(db, tmp_path, capsys):
    out = tmp_path / "copy.sqlite"
    backup.backup(db, out)
    with open(out, "r+b") as f:  # one byte changed deep inside
        f.seek(out.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 1]))
    _refused(db, out, capsys, "не совпадает с записанной")
    backup.checksum_path(out).unlink()
    _refused(db, out, capsys, "нет файла контрольной суммы")


def test_a_file_that_is_not_a_journal_database_is_refused(db, tmp_path, capsys):
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    text = tmp_path / "notes.txt"
    text.write_text("не база")
    for source in (other, text):
        sha = hashlib.sha256(source.read_bytes()).hexdigest()
        backup.checksum_path(source).write_text(f"{sha}  {source.name}\n")
        _refused(db, source, capsys, "не резервная копия базы журнала")


def test_a_copy_from_a_newer_program_is_refused(db, tmp_path, capsys):
    conn = connect(db)
    conn.execute("INSERT INTO schema_migrations VALUES (?, 'новее', 0)", (migrations.LATEST + 1,))
    conn.close()
    out = tmp_path / "copy.sqlite"
    backup.backup(db, out)
    conn = connect(db)
    conn.execute("DELETE FROM schema_migrations WHERE version > ?", (migrations.LATEST,))
    conn.close()
    _refused(db, out, capsys, "более новой версией сервера")


def test_restore_is_refused_while_the_server_runs(db, tmp_path, capsys):
    from litestar.testing import TestClient

    from server.app import create_app

    out = tmp_path / "copy.sqlite"
    backup.backup(db, out)
    with TestClient(create_app(ServerConfig(database=db))) as client:
        assert client.get("/api/v1/health").status_code == 200
        _refused(db, out, capsys, "Сервер журнала работает")
    assert main(["--db", str(db), "restore", str(out)]) == 0  # stopped: now it may


def test_a_server_does_not_start_during_a_restore(db):
    with (
        engine.engine_for(db).exclusive("восстановить базу"),
        pytest.raises(engine.EngineError, match="восстанавливается"),
        engine.engine_for(db).serving(),
    ):
        pass


def test_backup_of_a_missing_database_says_so(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "none.sqlite"), "backup", str(tmp_path / "b")]) == 2
    assert "копировать нечего" in capsys.readouterr().err


def test_a_copy_from_an_older_release_is_restored_and_asks_for_an_upgrade(db, tmp_path, capsys):
    old = tmp_path / "old.sqlite"
    shutil.copyfile(Path(__file__).parents[1] / "fixtures" / "release-1.sqlite", old)
    backup.backup(old, tmp_path / "old-copy.sqlite")
    assert main(["--db", str(db), "restore", str(tmp_path / "old-copy.sqlite")]) == 0
    assert "выполните journal-server upgrade" in capsys.readouterr().out
    assert main(["--db", str(db), "upgrade"]) == 0
    assert main(["--db", str(db), "quarantine"]) == 0
