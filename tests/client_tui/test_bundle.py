"""Sync by USB stick when there is no link at all: the laptop writes a signed bundle, the
school server processes it with `journal-server import-bundle` and writes a signed reply, the
laptop takes the reply back."""

from __future__ import annotations

import datetime as dt
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from client_tui import cli
from client_tui.services.api import RequestRefused
from client_tui.services.session import Session
from client_tui.services.store import ACCEPTED
from server.cli import main as server_main
from server.config import ServerConfig
from shared import wire
from shared.model import AttendanceCode
from tests.factories import MATH_5, MATH_6, PASSWORD

NOT_SIGNED = "Файл обмена не подписан действующим устройством: не принят.\n"


def server_events(config: ServerConfig) -> list[str]:
    conn = sqlite3.connect(config.database)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM events ORDER BY id")]
    finally:
        conn.close()


def import_bundle(config: ServerConfig, bundle: Path, reply: Path, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = server_main(
        ["--db", str(config.database), "import-bundle", str(bundle), "--reply", str(reply)]
    )
    out, err = capsys.readouterr()
    return code, out, err


def record(session: Session, journal_id: str = MATH_5, day: int = 5) -> list[str]:
    """A lesson, an absence and a mark: the ids of the three entries."""
    lesson = session.book.record_lesson(journal_id, date=dt.date(2026, 10, day), topic="Дроби")
    student = "s-1" if journal_id == MATH_5 else "s-5"
    absent = "s-2" if journal_id == MATH_5 else "s-6"
    (attendance,) = session.book.mark_attendance(
        journal_id, lesson.lesson_id, [absent], AttendanceCode.ABSENT
    )
    mark = session.book.give_mark(journal_id, lesson.lesson_id, student, 5)
    return [lesson.id, attendance.id, mark.id]


def tamper(path: Path, field: str) -> None:
    """Flip one byte of the signed body or of the signature, keeping the file readable."""
    bundle = wire.decode(path.read_bytes())
    value = bytearray(getattr(bundle, field))
    value[len(value) // 2] ^= 0x01
    path.write_bytes(wire.encode(msgspec.structs.replace(bundle, **{field: bytes(value)})))


def test_entries_travel_by_usb_stick_exactly_once(laptop, server_config, tmp_path, capsys):
    math = laptop("math")
    ids = record(math) + record(math, MATH_6, day=6)
    assert math.status().pending == 6
    bundle, reply = tmp_path / "usb" / "math.zhurnal", tmp_path / "usb" / "reply.zhurnal"
    bundle.parent.mkdir()

    size = math.export_bundle(bundle)

    assert size == bundle.stat().st_size > 0
    assert not bundle.with_name(bundle.name + ".tmp").exists()
    assert server_events(server_config) == []  # the stick has not reached the server yet

    code, out, err = import_bundle(server_config, bundle, reply, capsys)

    assert (code, err) == (0, "")
    assert out.startswith("Принято журналов: ") and f"Ответ записан в {reply}" in out
    assert sorted(server_events(server_config)) == sorted(ids)
    decoded = wire.decode(reply.read_bytes())
    assert isinstance(decoded, wire.Bundle)
    assert decoded.device_id == math.store.get("device_id")

    report = math.import_bundle(reply)

    assert report.refused == 0
    assert report.accepted == 6
    assert report.complete
    assert math.status().pending == 0
    assert {e.state for e in math.store.outbox()} == {ACCEPTED}
    assert math.status().last_error == ""
    # a later online sync finds nothing to send and changes nothing on the server
    again = math.sync()
    assert again.complete and again.accepted == 0
    assert sorted(server_events(server_config)) == sorted(ids)


def test_same_bundle_twice_on_the_server_is_idempotent(laptop, server_config, tmp_path, capsys):
    math = laptop("math")
    ids = record(math)
    bundle, first, second = (tmp_path / n for n in ("b.zhurnal", "r1.zhurnal", "r2.zhurnal"))
    math.export_bundle(bundle)

    assert import_bundle(server_config, bundle, first, capsys)[0] == 0
    assert import_bundle(server_config, bundle, second, capsys)[0] == 0

    assert sorted(server_events(server_config)) == sorted(ids)
    conn = sqlite3.connect(server_config.database)
    try:
        counted = conn.execute("SELECT event_count FROM journals WHERE id = ?", (MATH_5,))
        assert counted.fetchone() == (3,)
    finally:
        conn.close()
    # either reply settles the laptop; taking both is harmless
    math.import_bundle(second)
    math.import_bundle(first)
    assert math.status().pending == 0
    assert sorted(server_events(server_config)) == sorted(ids)


def test_entries_from_the_server_come_back_on_the_stick(laptop, server_config, tmp_path, capsys):
    online, offline = laptop("math", name="school"), laptop("math", name="home")
    ids = record(online)
    online.sync()
    bundle, reply = tmp_path / "b.zhurnal", tmp_path / "r.zhurnal"
    offline.export_bundle(bundle)

    assert import_bundle(server_config, bundle, reply, capsys)[0] == 0
    offline.import_bundle(reply)

    state = offline.book.state(MATH_5)
    (lesson,) = state.lessons()
    assert lesson.id == ids[0]
    assert [m.value for m in state.marks(lesson.lesson_id, "s-1")] == [5]
    assert state.attendance(lesson.lesson_id, "s-2") is AttendanceCode.ABSENT


@pytest.mark.parametrize("field", ["body", "mac"])
def test_tampered_bundle_is_refused(laptop, server_config, tmp_path, capsys, field):
    math = laptop("math")
    record(math)
    bundle, reply = tmp_path / "b.zhurnal", tmp_path / "r.zhurnal"
    math.export_bundle(bundle)
    tamper(bundle, field)

    code, out, err = import_bundle(server_config, bundle, reply, capsys)

    assert (code, out, err) == (2, "", NOT_SIGNED)
    assert server_events(server_config) == []
    assert not reply.exists()


def test_a_file_that_is_not_a_bundle_is_refused_in_russian(server_config, tmp_path, capsys):
    junk, reply = tmp_path / "photo.jpg", tmp_path / "r.zhurnal"
    junk.write_bytes(b"\xff\xd8\xff\xe0 not a bundle")

    code, out, err = import_bundle(server_config, junk, reply, capsys)

    assert (code, out) == (2, "")
    assert err.startswith("Ошибка: это не сообщение синхронизации журнала")
    assert not reply.exists()


def test_bundle_from_a_revoked_device_is_refused(laptop, server_config, tmp_path, capsys):
    math = laptop("math")
    record(math)
    bundle, reply = tmp_path / "b.zhurnal", tmp_path / "r.zhurnal"
    math.export_bundle(bundle)
    device = math.store.get("device_id")
    assert server_main(["--db", str(server_config.database), "revoke-device", device]) == 0

    code, out, err = import_bundle(server_config, bundle, reply, capsys)

    assert (code, out, err) == (2, "", NOT_SIGNED)
    assert server_events(server_config) == []
    assert not reply.exists()


def test_reply_for_another_device_is_refused_by_the_laptop(laptop, server_config, tmp_path, capsys):
    mine, other = laptop("math", name="mine"), laptop("math", name="other")
    record(mine)
    record(other, MATH_6, day=6)
    theirs, reply = tmp_path / "other.zhurnal", tmp_path / "other-reply.zhurnal"
    other.export_bundle(theirs)
    assert import_bundle(server_config, theirs, reply, capsys)[0] == 0
    before = (mine.status(), mine.store.outbox(), mine.store.doc_updates(MATH_6))

    with pytest.raises(RequestRefused) as refused:
        mine.import_bundle(reply)

    assert refused.value.message_ru == "Файл обмена подписан не для этого устройства или повреждён."
    assert (mine.status(), mine.store.outbox(), mine.store.doc_updates(MATH_6)) == before
    assert mine.book.state(MATH_6).lessons() == []
    # the right laptop takes it
    assert other.import_bundle(reply).accepted == 3
    assert other.status().pending == 0


def test_the_laptop_refuses_its_own_bundle_and_a_tampered_reply(
    laptop, server_config, tmp_path, capsys
):
    math = laptop("math")
    record(math)
    bundle, reply = tmp_path / "b.zhurnal", tmp_path / "r.zhurnal"
    math.export_bundle(bundle)
    with pytest.raises(RequestRefused) as refused:
        math.import_bundle(bundle)  # the request, not the server's reply
    assert refused.value.message_ru == "В файле нет ответа сервера."

    assert import_bundle(server_config, bundle, reply, capsys)[0] == 0
    tamper(reply, "body")
    with pytest.raises(RequestRefused) as refused:
        math.import_bundle(reply)
    assert refused.value.message_ru == "Файл обмена подписан не для этого устройства или повреждён."
    assert math.status().pending == 3


@pytest.fixture
def keep_sigpipe() -> Iterator[None]:
    """`journal` resets SIGPIPE for `journal show | head`; give pytest its handler back."""
    saved = signal.getsignal(signal.SIGPIPE) if hasattr(signal, "SIGPIPE") else None
    yield
    if saved is not None:
        signal.signal(signal.SIGPIPE, saved)


def test_journal_bundle_commands_round_trip(
    laptop, server_config, tmp_path, capsys, keep_sigpipe, monkeypatch
):
    """The same trip with the teacher's `journal bundle export|import` commands."""
    monkeypatch.setenv("ZHURNAL_PASSWORD", PASSWORD)  # the store's password, as a script gives it
    math = laptop("math")
    record(math)
    home = tmp_path / "laptops" / "math"  # where the laptop fixture keeps this profile
    bundle, reply = tmp_path / "b.zhurnal", tmp_path / "r.zhurnal"

    assert cli.main(["--home", str(home), "bundle", "export", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Файл обмена записан: {bundle} (")
    assert "Отнесите его на сервер школы." in out
    assert import_bundle(server_config, bundle, reply, capsys)[0] == 0
    assert cli.main(["--home", str(home), "bundle", "import", str(reply)]) == 0
    assert capsys.readouterr().out == "Ответ сервера принят: принято 3, отклонено 0.\n"
    assert math.status().pending == 0

    tamper(reply, "mac")
    assert cli.main(["--home", str(home), "bundle", "import", str(reply)]) == 2
    captured = capsys.readouterr()
    assert captured.err == "Ошибка: Файл обмена подписан не для этого устройства или повреждён.\n"
