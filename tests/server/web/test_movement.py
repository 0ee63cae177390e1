"""Книга движения учащихся: a pupil leaves, moves or arrives by an order; the class's journals
show the pupil only for the days they belonged, their marks stay, the leaver's transfer extract
is offered; bad or forged orders change nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from server.storage import directory as directory_storage
from server.storage.db import connect
from tests.factories import CLASS_5, CLASS_6
from tests.server.web.conftest import csrf_of


def _record(client, **form):
    csrf = csrf_of(client.get("/school/movement").text)
    return client.post("/school/movement", data={"csrf": csrf, **form})


def _places(web_config, student_id: str) -> list[tuple]:
    conn = connect(web_config.database)
    try:
        rows = conn.execute(
            "SELECT class_id, starts, ends FROM memberships WHERE student_id = ? ORDER BY starts",
            (student_id,),
        )
        return [tuple(r) for r in rows]
    finally:
        conn.close()


def _snapshot(web_config) -> dict:
    conn = connect(web_config.database)
    try:
        return {
            t: sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {t}"))
            for t in ("memberships", "pupil_movements", "marks", "attendance")
        }
    finally:
        conn.close()


def test_a_leaver_stays_in_the_journal_until_the_day_before_and_keeps_the_marks(
    browser_as, web_config
):
    before = _snapshot(web_config)
    marks_of_s1 = [m for m in before["marks"] if "s-1" in m]
    assert marks_of_s1
    response = _record(
        browser_as("deputy"), kind="left", student_id="s-1", day="16.11.2026",
        order_no="№ 45-у от 13.11.2026", place="МБОУ «Лесная СОШ»",
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert "выбыл с 16.11.2026" in response.text
    link = re.search(r'href="([^"]+)" id="transfer"', response.text).group(1)
    assert link == f"/classes/{CLASS_5}/transfer/s-1"
    assert browser_as("deputy").get(link).status_code == 200
    assert "№ 45-у от 13.11.2026" in response.text and "МБОУ «Лесная СОШ»" in response.text
    conn = connect(web_config.database)
    directory = directory_storage.load_full(conn, school_id="sch")
    conn.close()
    roster = lambda day: {s.id for s in directory.class_roster(CLASS_5, day)}  # noqa: E731
    assert "s-1" in roster(dt.date(2026, 11, 15))
    assert "s-1" not in roster(dt.date(2026, 11, 16))
    after = _snapshot(web_config)
    assert after["marks"] == before["marks"] and after["attendance"] == before["attendance"]


def test_a_move_to_another_class_splits_the_membership(browser_as, web_config):
    response = _record(
        browser_as("director"), kind="moved", student_id="s-2", day="01.12.2026",
        order_no="№ 50", class_id=CLASS_6,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert _places(web_config, "s-2") == [
        (CLASS_5, "2026-09-01", "2026-11-30"),
        (CLASS_6, "2026-12-01", None),
    ]


def test_the_leaver_arrives_back_later(browser_as, web_config):
    deputy = browser_as("deputy")
    _record(deputy, kind="left", student_id="s-3", day="02.11.2026", order_no="№ 1")
    response = _record(
        deputy, kind="arrived", student_id="s-3", day="20.11.2026", order_no="№ 2",
        place="МБОУ «Лесная СОШ»", class_id=CLASS_5,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert _places(web_config, "s-3") == [
        (CLASS_5, "2026-09-01", "2026-11-01"),
        (CLASS_5, "2026-11-20", None),
    ]


BAD = {
    "no order number": {"kind": "left", "student_id": "s-1", "day": "16.11.2026"},
    "a date outside the year": {
        "kind": "left", "student_id": "s-1", "day": "16.11.2030", "order_no": "1",
    },
    "a date in the wrong format": {
        "kind": "left", "student_id": "s-1", "day": "2026-11-16", "order_no": "1",
    },
    "a pupil of no school": {
        "kind": "left", "student_id": "s-999", "day": "16.11.2026", "order_no": "1",
    },
    "a forged kind": {"kind": "deleted", "student_id": "s-1", "day": "16.11.2026", "order_no": "1"},
    "a move to a class that does not exist": {
        "kind": "moved", "student_id": "s-1", "day": "16.11.2026", "order_no": "1", "class_id": "x",
    },
    "a move to the same class": {
        "kind": "moved", "student_id": "s-1", "day": "16.11.2026", "order_no": "1",
        "class_id": CLASS_5,
    },
    "an order a thousand characters long": {
        "kind": "left", "student_id": "s-1", "day": "16.11.2026", "order_no": "№" * 1000,
    },
}  # fmt: skip


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_order_is_refused_in_russian_and_changes_nothing(browser_as, web_config, case):
    before = _snapshot(web_config)
    response = _record(browser_as("deputy"), **BAD[case])
    assert response.status_code == 400, response.text
    assert "Не получилось" in response.text
    assert _snapshot(web_config) == before


@pytest.mark.parametrize("login", ["math", "rus", "parent", "pupil", "records"])
def test_only_the_administration_records_movement(browser_as, web_config, login):
    before = _snapshot(web_config)
    client = browser_as(login)
    csrf = csrf_of(client.get("/").text)
    response = client.post(
        "/school/movement",
        data={
            "csrf": csrf,
            "kind": "left",
            "student_id": "s-1",
            "day": "16.11.2026",
            "order_no": "1",
        },
    )
    assert response.status_code == 403
    assert _snapshot(web_config) == before
