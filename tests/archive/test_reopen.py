"""A year closed by mistake and reopened (issue 12): the entries refused only because it was
closed count again on every replica — the server's rows and document, each laptop's grid,
outbox and «отклонено: N» — unless they break another rule at the reopening."""

from __future__ import annotations

import datetime as dt
import typing

import msgspec
import pytest

from client_tui.services.store import ACCEPTED, REFUSED
from server.archive.closing import close_year, reopen_year
from server.storage import archive as archive_storage
from server.storage import consolidated
from server.storage import journals as journal_storage
from server.storage.db import connect
from shared import journal as journal_module
from shared.fold import order_key
from shared.model import AttendanceCode, JournalEvent, RefusalWithdrawn
from tests.archive.test_closing import _rows
from tests.factories import MATH_5, PASSWORD, YEAR
from tests.shared.test_fold import CELL_S1, mark, refusal, value_id, withdrawal

LESSON_DAY = dt.date(2026, 10, 5)
MISTAKE_DAY = dt.date(2027, 5, 20)  # before the year's last day (31.05.2027)


def _close_by_mistake(server_config) -> None:
    conn = connect(server_config.database)
    try:
        close_year(
            conn, login="director", year_id=YEAR, on=MISTAKE_DAY, early_reason="выпускной класс"
        )
    finally:
        conn.close()


def _mark_refused_by_a_mistaken_close(laptop, server_config, value: int):
    """The math teacher's laptop with one mark the mistaken close refused."""
    math = laptop("math")
    lesson = math.book.record_lesson(MATH_5, date=LESSON_DAY, topic="Дроби")
    math.sync()
    late = math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", value)
    _close_by_mistake(server_config)
    math.sync()
    return math, late


def test_entries_refused_by_a_mistaken_close_are_accepted_everywhere_after_reopening(
    laptop, client, server_config
):
    math = laptop("math")
    lesson = math.book.record_lesson(MATH_5, date=LESSON_DAY, topic="Дроби")
    math.sync()
    other = laptop("math", name="math-second")  # the same teacher's second laptop
    other.sync()
    # offline, the teacher goes on typing; the director closes the year early by mistake
    late = math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 4)
    absent = math.book.mark_attendance(MATH_5, lesson.lesson_id, ["s-2"], AttendanceCode.ABSENT)
    _close_by_mistake(server_config)
    report = math.sync()
    assert report.refused == 2 and math.status().refused == 2
    # the second laptop, not knowing of the absence (it was refused), gives s-2 a mark
    other.sync()
    clash = other.book.give_mark(MATH_5, lesson.lesson_id, "s-2", 5)
    assert order_key(absent[0]) < order_key(clash)
    assert other.sync().refused == 1
    assert {e.rule for e in [*math.rejected(), *other.rejected()]} == {"year_not_closed"}

    login = client.post(
        "/api/v1/auth/login",
        json={"login": "director", "password": PASSWORD, "device_name": "кабинет директора"},
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    response = client.post(
        f"/api/v1/years/{YEAR}/reopen",
        json={"reason": "закрыт по ошибке до конца года"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert "теперь принятых: 2" in response.json()["message"]

    # the server: the mark and the absence are consolidated, the clashing mark is not
    assert _rows(server_config, "SELECT student_id, value FROM marks") == [
        {"student_id": "s-1", "value": 4}
    ]
    absences = _rows(server_config, "SELECT student_id, code FROM attendance")
    assert absences == [{"student_id": "s-2", "code": AttendanceCode.ABSENT.value}]
    statuses = dict(
        (r["id"], r["status"]) for r in _rows(server_config, "SELECT id, status FROM events")
    )
    assert statuses[late.id] == statuses[absent[0].id] == "current"
    assert statuses[clash.id] == "refused"

    # each laptop at its next sync
    math.sync()
    other.sync()
    assert math.rejected() == [] and math.status().refused == 0
    assert {e.event_id: e.state for e in math.store.outbox()}[late.id] == ACCEPTED
    assert {e.event_id: e.state for e in math.store.outbox()}[absent[0].id] == ACCEPTED
    (still,) = other.rejected()
    assert still.event_id == clash.id and still.state == REFUSED
    assert still.rule == "no_mark_for_absent_pupil" and other.status().refused == 1
    for session in (math, other):
        state = session.book.state(MATH_5)
        assert [m.value for m in state.marks(lesson.lesson_id, "s-1")] == [4]
        assert state.attendance(lesson.lesson_id, "s-2") is AttendanceCode.ABSENT
        assert state.marks(lesson.lesson_id, "s-2") == []
        withdrawals = [e for e in state.events.values() if isinstance(e, RefusalWithdrawn)]
        assert len(withdrawals) == 3
        assert all("закрыт по ошибке" in w.reason for w in withdrawals)
    conn = connect(server_config.database)
    try:
        assert [r["action"] for r in archive_storage.year_log(conn, YEAR)] == [
            "early_close",
            "reopen",
        ]
        # the report of refused entries gives the refusal in force, not the withdrawn one
        (listed,) = consolidated.refused_events(conn, [MATH_5])
        assert "отсутствующ" in listed["reason"]
    finally:
        conn.close()
    # a sync after that changes nothing: the count stays, nothing turns back
    assert math.sync().refused == 0 and other.sync().refused == 0
    assert math.status().refused == 0 and other.status().refused == 1


def test_a_second_reopening_finds_nothing_left_to_withdraw(laptop, server_config):
    math, late = _mark_refused_by_a_mistaken_close(laptop, server_config, 3)
    conn = connect(server_config.database)
    try:
        assert reopen_year(conn, login="director", year_id=YEAR, reason="ошибка") == 1
        close_year(
            conn, login="director", year_id=YEAR, on=MISTAKE_DAY, early_reason="снова ошибка"
        )
        assert reopen_year(conn, login="director", year_id=YEAR, reason="ошибка") == 0
    finally:
        conn.close()
    math.sync()
    assert math.rejected() == []
    assert {e.event_id: e.state for e in math.store.outbox()}[late.id] == ACCEPTED
    assert _rows(server_config, "SELECT value FROM marks") == [{"value": 3}]


def test_a_laptop_of_the_previous_release_skips_the_withdrawal_and_keeps_the_refusal(
    monkeypatch,
):
    """The previous release's decoder has no `refusal-withdrawn`: the event is skipped like any
    undecodable one (nothing fails), the entry stays refused there until the laptop is updated
    (it hears «доступно обновление» at that sync); this release counts the entry."""
    events = [mark("m1", 4, 1), refusal("x", 2, "m1"), withdrawal("w", 3, "x")]
    server_doc = journal_module.JournalDoc(client_id=5)
    server_doc.add(events)
    assert value_id(server_doc.state(), CELL_S1) == "m1"

    kinds = tuple(k for k in typing.get_args(JournalEvent) if k is not RefusalWithdrawn)
    previous = msgspec.json.Decoder(typing.Union[kinds])  # noqa: UP007
    monkeypatch.setattr(journal_module, "decode_event", previous.decode)
    old_laptop = journal_module.JournalDoc(client_id=6)
    old_laptop.apply(server_doc.snapshot())
    assert "w" in old_laptop and "w" not in old_laptop.events()
    assert value_id(old_laptop.state(), CELL_S1) is None and "m1" in old_laptop.state().refusals


def test_a_failure_while_withdrawing_leaves_the_year_closed_and_loses_nothing(
    laptop, server_config, monkeypatch
):
    """The withdrawals are in the reopening's transaction: a fault in the middle (here the
    consolidation of the journal's cells) undoes the reopening too, and a second attempt
    does the whole of it."""
    math, late = _mark_refused_by_a_mistaken_close(laptop, server_config, 5)
    before = _rows(server_config, "SELECT id, status FROM events ORDER BY id")
    updates = _rows(server_config, "SELECT count(*) AS n FROM journal_updates")

    def broken(*args, **kwargs):
        raise OSError("диск отключён")

    monkeypatch.setattr(journal_storage, "write_cells", broken)
    conn = connect(server_config.database)
    try:
        with pytest.raises(OSError):
            reopen_year(conn, login="director", year_id=YEAR, reason="ошибка")
        assert _rows(server_config, "SELECT id, status FROM events ORDER BY id") == before
        assert _rows(server_config, "SELECT count(*) AS n FROM journal_updates") == updates
        assert len(_rows(server_config, "SELECT * FROM year_closures")) == 1
        math.sync()
        assert [e.event_id for e in math.rejected()] == [late.id]  # still there, still refused

        monkeypatch.undo()
        assert reopen_year(conn, login="director", year_id=YEAR, reason="ошибка") == 1
    finally:
        conn.close()
    math.sync()
    assert math.rejected() == []
    assert _rows(server_config, "SELECT value FROM marks") == [{"value": 5}]
