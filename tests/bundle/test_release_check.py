"""The server tells laptops which release it expects; a laptop too old for the wire protocol
is told so in Russian and keeps every entry until it is updated."""

from __future__ import annotations

import datetime as dt
import zlib

import msgspec
import pytest

from client_tui import cli
from client_tui.app.widgets.status_bar import Connection, StatusInfo
from client_tui.services.api import RequestRefused
from shared import wire
from shared.release import installed_version, is_newer, version_key
from tests.factories import MATH_5


def test_versions_compare_by_their_numbers():
    assert version_key("0.10.0") > version_key("0.9.3")
    assert version_key("1.0") == version_key("1")
    assert is_newer("0.2.0", "0.1.9") and not is_newer("0.1.0", "0.1.0")
    assert not is_newer("", "0.1.0")


def test_laptop_older_than_the_server_shows_update_available(laptop, monkeypatch, capsys):
    math = laptop("math")
    math.sync()
    assert math.status().update_version == ""  # same release as the server: nothing to say
    monkeypatch.setattr("client_tui.services.session.installed_version", lambda: "0.0.1")
    math.sync()
    status = math.status()
    assert status.update_version == installed_version()
    line = StatusInfo.from_status(status, Connection.ONLINE).text
    assert "доступно обновление" in line
    cli.cmd_status(math, None)
    assert (
        f"Доступно обновление программы до версии {installed_version()}" in capsys.readouterr().out
    )


def test_laptop_as_new_as_the_server_shows_no_update(laptop):
    math = laptop("math")
    math.sync()
    line = StatusInfo.from_status(math.status(), Connection.ONLINE).text
    assert "обновление" not in line


def test_server_names_the_release_it_expects_in_every_reply(client, laptop):
    math = laptop("math")
    reply = wire.decode(math.api().sync(wire.encode(wire.SyncRequest(client_version="0.0.1"))))
    assert isinstance(reply, wire.SyncResponse)
    assert reply.client_version == installed_version()


def test_laptop_too_old_for_the_protocol_is_told_in_russian_and_keeps_entries(laptop, monkeypatch):
    math = laptop("math")
    lesson = math.book.record_lesson(MATH_5, date=dt.date(2026, 10, 5), topic="Дроби")
    math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)
    monkeypatch.setattr(wire, "PROTOCOL_VERSION", 2)  # the server moved on; the laptop sends 1
    with pytest.raises(RequestRefused) as refused:
        math.sync()
    assert "устарела" in refused.value.message_ru
    assert "/install" in refused.value.message_ru
    assert "Записи сохранены" in refused.value.message_ru
    status = math.status()
    assert status.pending == 2
    assert "устарела" in status.last_error
    assert [m.value for m in math.book.state(MATH_5).marks(lesson.lesson_id, "s-1")] == [5]
    monkeypatch.setattr(wire, "PROTOCOL_VERSION", 1)  # updated: the same entries go through
    assert math.sync().complete
    assert math.status().pending == 0


def test_a_request_in_an_unknown_future_shape_gets_the_protocol_message(laptop):
    """Whatever an older or newer laptop's request holds beside its protocol number, the
    server reads the number first and answers in Russian, not with a decoding error."""
    math = laptop("math")
    for protocol, says in ((0, "устарела"), (7, "новее сервера")):
        strange = msgspec.msgpack.encode({"type": "sync", "protocol": protocol, "journals": "?"})
        with pytest.raises(RequestRefused) as refused:
            math.api().sync(zlib.compress(strange))
        assert f"протокол {protocol}" in refused.value.message_ru
        assert says in refused.value.message_ru
