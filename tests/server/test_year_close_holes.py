"""The year closed early (issue 12, hole 1) and the way back from a mistaken close.

`POST /api/v1/years/{id}/close` took the closing date from the request body: a deputy closed
2026/27 on 04.12.2026 with `{"date": "2027-06-30"}` and every teacher's entry was refused
from then on, with no way back. Now the day is the server's, in the school's time zone; an
early close is the director's, with a reason; a close can be undone by the director.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from server.archive.closing import close_year, reopen_year
from server.storage import archive as archive_storage
from server.storage import school_time
from server.storage.db import transaction
from shared import wire
from tests.factories import MATH_5, YEAR
from tests.server.portfolio_kit import PORTFOLIO_5, achievement, push_achievement
from tests.server.school_kit import Replica, SchoolServer, Writer, assert_russian_error

Outcome = wire.Outcome
CLOSE = f"/api/v1/years/{YEAR}/close"
REOPEN = f"/api/v1/years/{YEAR}/reopen"


def closed(server: SchoolServer) -> bool:
    return server.count("year_closures") > 0


@pytest.mark.parametrize("login", ["deputy", "director", "records"])
@pytest.mark.parametrize("body", [{"date": "2027-06-30"}, {"date": "2103-11-07"}, {}])
def test_a_date_in_the_request_cannot_close_the_year_early(
    server: SchoolServer, login: str, body: dict
) -> None:
    assert dt.date.today() < dt.date(2027, 5, 31)  # the fixture year is still running
    response = server.client.post(CLOSE, json=body, headers=server.headers(login))
    assert "директор" in assert_russian_error(response, 400)["message"]
    assert not closed(server)
    assert server.count("year_closing_log") == 0
    # and teachers go on writing
    math = Writer(server.tokens["math"])
    replica = Replica(MATH_5)
    replica.add(math.lesson("L1"))
    assert server.push("math", replica.push()).outcome is Outcome.ACCEPTED


@pytest.mark.parametrize("login", ["deputy", "records"])
def test_only_the_director_closes_early_even_with_a_reason(
    server: SchoolServer, login: str
) -> None:
    response = server.client.post(
        CLOSE, json={"early_reason": "хочу"}, headers=server.headers(login)
    )
    assert_russian_error(response, 403)
    assert not closed(server)


def test_the_director_closes_early_with_a_reason_and_it_is_logged(server: SchoolServer) -> None:
    response = server.client.post(
        CLOSE, json={"early_reason": "   "}, headers=server.headers("director")
    )
    assert_russian_error(response, 400)
    assert not closed(server)
    reason = "Приказ № 12: досрочное окончание года (ремонт школы)"
    response = server.client.post(
        CLOSE, json={"early_reason": reason}, headers=server.headers("director")
    )
    assert response.status_code == 201, response.text
    with server.db() as conn:
        today = school_time.today(conn, "sch")
        assert response.json()["closed_on"] == today.isoformat()
        log = archive_storage.year_log(conn, YEAR)
    assert [(r["action"], r["login"], r["reason"]) for r in log] == [
        ("early_close", "director", reason)
    ]


def test_the_closing_day_is_the_schools_own(server: SchoolServer) -> None:
    """At 20:00 UTC on the year's last day it is already the next day in Томск (UTC+7)."""
    moment = dt.datetime(2027, 5, 31, 20, 0, tzinfo=dt.UTC).timestamp()
    with server.db() as conn:
        assert school_time.today(conn, "sch", moment) == dt.date(2027, 5, 31)  # Moscow
        with transaction(conn):
            school_time.set_zone(conn, "sch", 7 * 60)
        assert school_time.today(conn, "sch", moment) == dt.date(2027, 6, 1)
        closure = close_year(conn, login="deputy", year_id=YEAR, now=moment)
        assert closure.closed_on == dt.date(2027, 6, 1)


def close_after_the_year(server: SchoolServer) -> None:
    after_the_year = dt.datetime(2027, 6, 20, 12, tzinfo=dt.UTC).timestamp()
    with server.db() as conn:
        close_year(conn, login="deputy", year_id=YEAR, now=after_the_year)


def test_a_mistaken_close_is_reopened_by_the_director_and_entries_flow_again(
    server: SchoolServer,
) -> None:
    close_after_the_year(server)
    math = Writer(server.tokens["math"])
    replica = Replica(MATH_5)
    lesson = math.lesson("L1")
    replica.add(lesson)
    reply = server.push("math", replica.push())
    assert reply.event_ids == (lesson.id,)  # refused: the year is closed
    replica.take(reply)

    for login in ("deputy", "records", "math"):
        response = server.client.post(
            REOPEN, json={"reason": "ошибка"}, headers=server.headers(login)
        )
        assert response.status_code == 403
    assert closed(server)
    refused = server.client.post(REOPEN, json={"reason": ""}, headers=server.headers("director"))
    assert refused.status_code == 400
    assert closed(server)

    response = server.client.post(
        REOPEN, json={"reason": "год закрыт по ошибке"}, headers=server.headers("director")
    )
    assert response.status_code == 201, response.text
    assert not closed(server)
    with server.db() as conn:
        actions = [r["action"] for r in archive_storage.year_log(conn, YEAR)]
    assert actions == ["close", "reopen"]

    since = replica.doc.state_vector()
    again = math.lesson("L1", topic="Дроби (снова)")
    replica.add(again)
    reply = server.push("math", replica.push(since=since))
    assert reply.outcome is Outcome.ACCEPTED and reply.event_ids == ()
    assert server.count("lessons", MATH_5) == 1


def test_reopening_brings_back_an_achievement_refused_by_the_closed_portfolio(
    server: SchoolServer,
) -> None:
    close_after_the_year(server)
    late = achievement(Writer(server.tokens["math"]))
    reply = push_achievement(server, "math", late)
    assert reply.event_ids == (late.id,)
    assert server.rows("SELECT * FROM achievements") == []

    with server.db() as conn:
        assert reopen_year(conn, login="director", year_id=YEAR, reason="ошибка") == 1

    assert [r["id"] for r in server.rows("SELECT id FROM achievements")] == ["A1"]
    assert server.rows("SELECT status FROM events WHERE id = ?", [late.id]) == [
        {"status": "current"}
    ]
    withdrawn = server.rows(
        "SELECT supersedes FROM events WHERE journal_id = ? AND kind = 'refusal-withdrawn'",
        [PORTFOLIO_5],
    )
    assert withdrawn == [{"supersedes": f'["refusal-{late.id}"]'}]
    # the document the laptops pull says the same
    pull = wire.JournalPush(journal_id=PORTFOLIO_5, state_vector=b"\x00")
    (reply,) = server.sync("math", pull).journals
    replica = Replica(PORTFOLIO_5)
    replica.take(reply)
    assert [a.id for a in replica.doc.state().achievements()] == [late.id]


def test_a_flood_of_reopenings_withdraws_each_refusal_once(server: SchoolServer) -> None:
    close_after_the_year(server)
    math = Writer(server.tokens["math"])
    replica = Replica(MATH_5)
    replica.add(lesson := math.lesson("L1"))
    assert server.push("math", replica.push()).event_ids == (lesson.id,)
    answers = [
        server.client.post(
            REOPEN, json={"reason": f"ошибка {n}"}, headers=server.headers("director")
        ).status_code
        for n in range(20)
    ]
    assert answers == [201] + [400] * 19
    assert server.count("lessons", MATH_5) == 1
    assert len(server.rows("SELECT id FROM events WHERE kind = 'refusal-withdrawn'")) == 1


def test_the_year_is_still_open_after_a_flood_of_close_requests(server: SchoolServer) -> None:
    started = time.monotonic()
    for n in range(30):
        body = {"date": f"20{27 + n}-06-30", "early_reason": ""}
        response = server.client.post(CLOSE, json=body, headers=server.headers("deputy"))
        assert response.status_code == 400
    assert not closed(server)
    assert time.monotonic() - started < 60
