"""Login brings the teacher's journals: only login needs the server (README)."""

from __future__ import annotations

import datetime as dt

from client_tui.services.api import TemporaryFailure
from client_tui.services.session import Session
from shared.model import AttendanceCode
from tests.conftest import BASE_URL
from tests.factories import MATH_5, PASSWORD


class CuttableLink:
    """The real sync endpoint until `cut` is set (or for the first `fail_first` calls, none)."""

    def __init__(self, fail_first: int = 0):
        self.session: Session | None = None
        self.cut = False
        self.fail_first = fail_first
        self.calls = 0

    def __call__(self, body: bytes) -> bytes:
        self.calls += 1
        if self.cut or self.calls <= self.fail_first:
            raise TemporaryFailure("Нет связи с сервером.")
        return self.session.api().sync(body)


def a_lesson_on_the_server(laptop) -> str:
    other = laptop("math", name="school-desktop")
    lesson = other.book.record_lesson(MATH_5, date=dt.date(2026, 10, 5), topic="Дроби")
    other.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)
    other.book.mark_attendance(MATH_5, lesson.lesson_id, ["s-2"], AttendanceCode.ABSENT)
    assert other.sync().complete
    return lesson.lesson_id


def test_login_leaves_full_journals_when_the_link_is_cut_right_after(laptop, client, tmp_path):
    lesson_id = a_lesson_on_the_server(laptop)
    link = CuttableLink()
    fresh = Session(tmp_path / "new-laptop", http=client, transport=link)
    link.session = fresh
    seen: list[tuple[int, int]] = []
    report = fresh.login(BASE_URL, "math", PASSWORD, progress=lambda d, t: seen.append((d, t)))
    link.cut = True  # the link goes the moment login ends
    try:
        assert report is not None and report.complete
        total = len(fresh.engine().journal_ids())  # the journals and the portfolios
        assert total >= len(fresh.directory.journals) > 0
        assert seen[0] == (0, total) and seen[-1] == (total, total)
        state = fresh.book.state(MATH_5)
        assert state.lesson(lesson_id).topic == "Дроби"
        assert [m.value for m in state.marks(lesson_id, "s-1")] == [5]
        assert state.attendance(lesson_id, "s-2") is AttendanceCode.ABSENT
    finally:
        fresh.close()
    # next start, still no link
    again = Session(tmp_path / "new-laptop", password=PASSWORD, transport=link)
    try:
        assert again.book.state(MATH_5).marks(lesson_id, "s-1")[0].value == 5
    finally:
        again.close()


def test_a_first_sync_cut_short_is_resumed_by_the_next_sync(laptop, client, tmp_path):
    lesson_id = a_lesson_on_the_server(laptop)
    link = CuttableLink(fail_first=1)
    fresh = Session(tmp_path / "new-laptop", http=client, transport=link)
    link.session = fresh
    try:
        assert fresh.login(BASE_URL, "math", PASSWORD) is None  # logged in, journals not yet
        assert fresh.logged_in
        assert fresh.status().last_error
        assert fresh.book.state(MATH_5).lesson(lesson_id) is None
        assert fresh.sync().complete
        assert fresh.book.state(MATH_5).marks(lesson_id, "s-1")[0].value == 5
    finally:
        fresh.close()
