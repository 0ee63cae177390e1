"""The background sync loop over weeks without a link: it must never stop trying."""

from __future__ import annotations

import datetime as dt
import random

from client_tui.services.api import TemporaryFailure
from client_tui.services.local_log import LOG_NAME
from client_tui.services.sync import BackgroundSync
from shared.model import AttendanceCode
from tests.factories import MATH_5

DAY = 24 * 3600.0
OFFLINE_FOR = 60 * DAY


class Panic(BaseException):
    """Like pycrdt's PanicException: a BaseException, not an Exception."""


class VillageLink:
    """No link for 60 simulated days (and a few odd failures on the way), then a real one."""

    def __init__(self, clock: list[float]):
        self.clock = clock
        self.real = None
        self.calls = 0

    def __call__(self, body: bytes) -> bytes:
        self.calls += 1
        if self.clock[0] < OFFLINE_FOR:
            if self.calls == 1_100:  # past the old loop's OverflowError (≈1,025 failures)
                raise RuntimeError("unexpected bug in a round")
            if self.calls == 1_200:
                raise Panic("a Rust panic in the CRDT engine")
            raise TemporaryFailure("Нет связи с сервером.")
        return self.real(body)


def test_sixty_days_offline_the_loop_keeps_trying_and_then_the_entries_go(laptop):
    clock = [0.0]
    link = VillageLink(clock)
    math = laptop("math", transport=link)
    link.real = math.api().sync
    lesson = math.book.record_lesson(MATH_5, date=dt.date(2026, 10, 5), topic="Дроби")
    math.book.mark_attendance(MATH_5, lesson.lesson_id, ["s-2"], AttendanceCode.ABSENT)
    math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)
    assert math.status().pending == 3

    results: list[tuple[object, str]] = []
    delays: list[float] = []

    def sleeper(seconds: float) -> None:
        delays.append(seconds)
        clock[0] += seconds
        if results and results[-1][0] is not None:  # the first round with a link: done
            loop.stop()

    loop = BackgroundSync(
        math.engine(),
        interval=60.0,
        max_delay=600.0,
        rng=random.Random(13),
        sleep=sleeper,
        on_result=lambda report, error: results.append((report, error)),
    )
    loop.run()  # in this thread: returns only when the sleeper stops it

    failures = [error for report, error in results if report is None]
    assert clock[0] >= OFFLINE_FOR
    assert len(failures) > 8_000  # ten minutes at most between tries, for sixty days
    assert max(delays) <= 600.0
    assert all(error for error in failures)  # every failure said something (in Russian)
    assert all(any("а" <= ch <= "я" for ch in error) for error in failures)
    assert any("Сбой синхронизации (RuntimeError)" in error for error in failures)
    assert any("Сбой синхронизации (Panic)" in error for error in failures)
    report, error = results[-1]
    assert error == "" and report.complete
    assert math.status().pending == 0
    assert loop.failures == 0

    log = (math.home / math.profile / LOG_NAME).read_text(encoding="utf-8")
    assert "Traceback" in log and "RuntimeError: unexpected bug in a round" in log
    assert "Panic: a Rust panic in the CRDT engine" in log

    other = laptop("math", name="second")
    other.sync()
    state = other.book.state(MATH_5)
    assert [m.value for m in state.marks(lesson.lesson_id, "s-1")] == [5]
    assert state.attendance(lesson.lesson_id, "s-2") is AttendanceCode.ABSENT


def test_backoff_delay_is_capped_after_any_number_of_failures():
    loop = BackgroundSync(None, base_delay=2.0, max_delay=600.0, rng=random.Random(1))
    for failures in (1, 2, 10, 1_025, 1_100, 10**6, 10**12):
        loop.failures = failures
        delay = loop.next_delay()
        assert 0 < delay <= 600.0
    loop.failures = 1
    assert 1.0 <= loop.next_delay() <= 2.0


async def test_a_bug_in_a_round_shows_in_the_status_line_and_the_next_round_syncs(laptop):
    from client_tui.app import JournalApp
    from tests.client_tui.app.conftest import LESSON_DAY
    from tests.client_tui.app.test_app_sync import status_text, wait_for

    calls = []

    def flaky(body: bytes) -> bytes:
        calls.append(body)
        if len(calls) <= 2:
            raise ValueError("a bug, not the link")
        return math.api().sync(body)

    math = laptop("math", transport=flaky, first_sync=False)
    math.book.record_lesson(MATH_5, date=LESSON_DAY, topic="Дроби")
    app = JournalApp(math, sync_interval=0.2, today=lambda: LESSON_DAY)
    app_sync = None
    async with app.run_test(size=(120, 24)) as pilot:
        await wait_for(pilot, lambda: "Сбой синхронизации (ValueError)" in status_text(app))
        app_sync = app.sync
        app.sync.sync_now()
        await wait_for(pilot, lambda: "связь: есть" in status_text(app), timeout=60)
        assert "Сбой" not in status_text(app)
        assert "ждут отправки: 0" in status_text(app)
    assert app_sync is not None and len(calls) >= 3
