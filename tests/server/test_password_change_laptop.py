"""A changed password cuts off the account's laptops; their offline entries stay (issue 12).

The server answers the old device token 401 with a Russian reason; the laptop keeps every
entry it has not sent, to send after the teacher logs in again (issue 13 builds that step).
"""

from __future__ import annotations

import datetime as dt
import time

from server.auth import passwords
from server.storage import accounts
from server.storage import web as web_storage
from server.storage.db import connect, transaction
from tests.factories import MATH_5


def test_a_laptop_cut_off_by_a_password_change_keeps_its_entries(laptop, server_config) -> None:
    math = laptop("math")
    lesson = math.book.record_lesson(MATH_5, date=dt.date(2026, 10, 5), topic="Дроби")
    math.sync()
    mark = math.book.give_mark(MATH_5, lesson.lesson_id, "s-1", 5)  # typed offline

    conn = connect(server_config.database)
    with transaction(conn):  # what the password page does (server/web/pages.py)
        web_storage.set_password_hash(conn, "math", passwords.hash_password("new-password-1"))
        assert accounts.revoke_devices_of(conn, "math", time.time()) >= 1
    conn.close()

    try:
        math.sync()
    except Exception as exc:  # the laptop may report the refusal as an error
        assert "смены пароля" in str(exc) or "Войдите" in str(exc)
    state = math.book.state(MATH_5)
    assert mark.id in state.events and mark.id not in state.refusals
    pending = [e.event_id for e in math.store.outbox(MATH_5, ["waiting", "sent"])]
    assert mark.id in pending
