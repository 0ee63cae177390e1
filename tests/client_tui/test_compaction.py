"""The journal's update log is squashed when the teacher pauses, never inside a keypress."""

from __future__ import annotations

import datetime as dt

from client_tui.services.journals import SQUASH_AFTER
from client_tui.services.session import Session
from tests.factories import MATH_5, PASSWORD


def test_commits_never_squash_and_an_idle_compaction_keeps_every_entry(laptop):
    math = laptop("math")
    lesson = math.book.record_lesson(MATH_5, date=dt.date(2026, 10, 5), topic="Дроби")
    for i in range(SQUASH_AFTER + 20):
        math.book.give_mark(MATH_5, lesson.lesson_id, f"s-{1 + i % 4}", 1 + i % 5)
        assert math.store.doc_update_count(MATH_5) > i  # no snapshot written by a keypress
    before = math.book.state(MATH_5).events.keys()
    assert math.book.compact() == 1
    assert math.store.doc_update_count(MATH_5) == 1
    assert math.book.compact() == 0  # nothing left to do: no write at all
    reopened = Session(math.home, math.profile, password=PASSWORD)
    try:
        assert reopened.book.state(MATH_5).events.keys() == before
    finally:
        reopened.close()


def test_closing_a_session_squashes_a_long_log(laptop):
    math = laptop("math")
    lesson = math.book.record_lesson(MATH_5, date=dt.date(2026, 10, 5), topic="Дроби")
    for i in range(SQUASH_AFTER + 1):
        math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 1 + i % 5)
    math.close()
    again = Session(math.home, math.profile, password=PASSWORD)
    try:
        assert again.store.doc_update_count(MATH_5) == 1
        assert len(again.book.state(MATH_5).marks(lesson.lesson_id, "s-1")) == 1
    finally:
        again.close()
