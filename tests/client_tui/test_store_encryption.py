"""The laptop's store is encrypted at rest (152-ФЗ): a stolen or lent laptop shows no pupil's
name and no device token; only the teacher's password opens it, offline; a plain store of the
release before is encrypted on its first start without losing an entry, even if the power
goes in the middle."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from client_tui import cli
from client_tui.services import store_crypto
from client_tui.services.session import Session
from client_tui.services.store import PENDING_STATES
from client_tui.services.store_crypto import StoreDamaged, WrongPassword
from client_tui.services.store_schema import V1, backup_path
from scripts.badlink.live import ROOT, child_env
from tests.factories import MATH_5, PASSWORD

LESSON_DAY = dt.date(2026, 10, 5)


def profile_bytes(session: Session) -> bytes:
    """Every file the store keeps on disk (the store, its WAL and shared memory, copies)."""
    folder = session.store_path.parent
    return b"".join(p.read_bytes() for p in sorted(folder.glob("store*")) if p.is_file())


def surnames(session: Session) -> list[str]:
    return sorted({s.last_name for s in session.directory.students})


def teacher_with_entries(laptop) -> Session:
    """Entries the server has and entries still waiting (typed after the last sync)."""
    math = laptop("math")
    lesson = math.book.record_lesson(MATH_5, date=LESSON_DAY, topic="Дроби")
    math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)
    math.sync()
    math.book.give_mark(MATH_5, lesson.lesson_id, "s-2", 4)
    math.book.give_mark(MATH_5, lesson.lesson_id, "s-3", 3)
    assert len(math.pending()) == 2
    return math


def contents(session: Session) -> dict[str, list[tuple]]:
    """Every row of every table: what must survive an encryption whole."""
    conn = session.store.conn
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        t: sorted(tuple(r.values()) for r in conn.execute(f"SELECT * FROM {t}")) for t in tables
    }


def make_plain_release_store(session: Session) -> dict[str, list[tuple]]:
    """Turn the laptop's store into what the release before encryption left: a plain SQLite
    file in WAL mode with the same rows, written by the standard library, no key file."""
    rows = contents(session)
    path = session.store_path
    session.close()
    for p in path.parent.glob("store*"):
        p.unlink()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(V1)
    for table, values in rows.items():
        for row in values:
            marks = ", ".join("?" for _ in row)
            conn.execute(f"INSERT INTO {table} VALUES ({marks})", row)
    conn.close()
    assert store_crypto.is_plain(path)
    return rows


# ---------------------------------------------------------------------- at rest


def test_the_store_files_hold_no_surname_and_no_token(laptop):
    math = teacher_with_entries(laptop)
    names, token = surnames(math), math.store.get("token")
    assert names and token
    on_disk = profile_bytes(math)  # open, the WAL holding the latest commits
    math.close()
    closed = profile_bytes(math)
    for data in (on_disk, closed):
        assert b"SQLite format 3" not in data
        assert token.encode() not in data
        for name in names:
            assert name.encode("utf-8") not in data, name
    assert "Дроби".encode() not in closed


def test_the_right_password_opens_the_store_offline(laptop, tmp_path):
    math = teacher_with_entries(laptop)
    home = math.home
    math.close()
    again = Session(home, transport=lambda body: (_ for _ in ()).throw(OSError("нет связи")))
    assert again.locked and not again.logged_in
    again.unlock(PASSWORD)
    try:
        assert again.logged_in and len(again.pending()) == 2
    finally:
        again.close()


def test_a_wrong_password_opens_nothing_and_says_so_in_russian(laptop):
    math = teacher_with_entries(laptop)
    home, path = math.home, math.store_path
    math.close()
    before = path.read_bytes()
    locked = Session(home)
    with pytest.raises(WrongPassword) as refused:
        locked.unlock("не тот пароль")
    assert refused.value.message_ru.startswith("Пароль не подходит")
    assert locked.locked
    locked.close()
    assert path.read_bytes() == before


def test_a_wrong_password_in_the_cli_is_a_russian_sentence(laptop, monkeypatch, capsys):
    math = teacher_with_entries(laptop)
    home = math.home
    math.close()
    monkeypatch.setenv("ZHURNAL_PASSWORD", "не тот пароль")
    capsys.readouterr()
    assert cli.main(["--home", str(home), "status"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("Пароль не подходит") and "Traceback" not in err
    monkeypatch.setenv("ZHURNAL_PASSWORD", PASSWORD)
    assert cli.main(["--home", str(home), "pending"]) == 0
    assert capsys.readouterr().out.count("\n") >= 2


# ---------------------------------------------------------------------- a plain store


def test_a_plain_store_of_the_release_before_is_encrypted_with_every_entry(laptop, client):
    math = teacher_with_entries(laptop)
    home = math.home
    rows = make_plain_release_store(math)

    again = Session(home, http=client)
    assert again.locked and again.plain_store
    again.unlock(PASSWORD)
    try:
        assert contents(again) == rows
        assert len(again.pending()) == 2
        assert not store_crypto.plain_copy_path(again.store_path).exists()
        assert backup_path(again.store_path, 1).exists()  # kept before migration 1
        data = profile_bytes(again)
        assert b"SQLite format 3" not in data
        for name in surnames(again):
            assert name.encode() not in data
        report = again.sync()  # the pending entries still go, and the server takes them
        assert report.refused == 0 and again.pending() == []
    finally:
        again.close()
    reopened = Session(home, password=PASSWORD)
    try:
        assert not reopened.plain_store and reopened.logged_in
    finally:
        reopened.close()


STEPS = ["start", "kept", "copying", "built", "replaced", "done"]


@pytest.mark.parametrize("step", STEPS)
def test_a_kill_during_the_encryption_of_a_plain_store_loses_nothing(laptop, step):
    """SIGKILL at each step of the first start (a power cut): the next start finishes the
    job, and every row of the plain store is there, encrypted."""
    math = teacher_with_entries(laptop)
    home = math.home
    rows = make_plain_release_store(math)
    child = subprocess.run(
        [sys.executable, "-m", "tests.client_tui.store_child", str(home), step],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -9, child.stdout + child.stderr
    assert child.stdout.split()[-1] == step
    again = Session(home, password=PASSWORD)
    try:
        assert contents(again) == rows
        assert {e.state for e in again.pending()} <= set(PENDING_STATES)
        assert len(again.pending()) == 2
    finally:
        again.close()
    assert not store_crypto.is_plain(home / "default" / "store.sqlite")
    leftovers = {p.name for p in (home / "default").iterdir()}
    assert "store.sqlite.plain" not in leftovers and "store.sqlite.encrypting" not in leftovers


def test_a_file_that_is_no_store_is_refused_before_any_password(tmp_path):
    folder = tmp_path / "laptop" / "default"
    folder.mkdir(parents=True)
    (folder / "store.sqlite").write_bytes(b"\x00garbage" * 500)
    session = Session(tmp_path / "laptop")
    try:
        with pytest.raises(StoreDamaged) as refused:
            session.check_store()
        assert "не распознан" in refused.value.message_ru
    finally:
        session.close()


# ---------------------------------------------------------------------- a new password


def test_a_new_password_rekeys_the_store(laptop):
    math = teacher_with_entries(laptop)
    home = math.home
    math.store.rekey("новый-пароль-2")
    math.close()
    with pytest.raises(WrongPassword):
        Session(home, password=PASSWORD)
    again = Session(home, password="новый-пароль-2")
    try:
        assert len(again.pending()) == 2
    finally:
        again.close()
    assert not store_crypto.pending_params_path(home / "default" / "store.sqlite").exists()


def test_a_rekey_cut_after_the_pages_but_before_its_parameters_still_opens(laptop):
    """The new salt is written aside before the pages are re-keyed; the next start tries it."""
    math = teacher_with_entries(laptop)
    home, path = math.home, math.store_path
    params = store_crypto.new_params()
    store_crypto.write_params(store_crypto.pending_params_path(path), params)
    store_crypto.rekey(math.store.conn, store_crypto.derive_key("новый-пароль-2", params))
    math.close()  # killed here: store.kdf.json still holds the old salt
    again = Session(home, password="новый-пароль-2")
    try:
        assert len(again.pending()) == 2
    finally:
        again.close()
    assert store_crypto.read_params(store_crypto.params_path(path)) == params
    assert not store_crypto.pending_params_path(path).exists()


def test_cli_opens_a_store_with_zhurnal_password(laptop, monkeypatch, capsys):
    math = teacher_with_entries(laptop)
    home: Path = math.home
    math.close()
    monkeypatch.setenv("ZHURNAL_PASSWORD", PASSWORD)
    capsys.readouterr()
    assert cli.main(["--home", str(home), "status"]) == 0
    assert "Traceback" not in capsys.readouterr().err
