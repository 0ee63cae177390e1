"""The movement page moves a pupil to another school of the same server (issue 15): the form
offers the other schools' classes, the order ends the place here and starts one there."""

from __future__ import annotations

import pytest

from server.importer import add_school
from server.storage import directory as directory_storage
from server.storage.db import connect, transaction
from shared.model import SchoolClass
from tests.factories import CLASS_5
from tests.server.web.conftest import csrf_of

OTHER_CLASS = "les-2026-2027-6"


@pytest.fixture
def second_school(web_config):
    conn = connect(web_config.database)
    add_school(conn, school_id="les", name="МБОУ «Лесная СОШ»", district="Р", first_year=2026)
    with transaction(conn):
        directory_storage.upsert(
            conn, [SchoolClass(id=OTHER_CLASS, year_id="les-2026-2027", grade=6)]
        )
    conn.close()


def test_the_page_moves_a_pupil_to_another_school_of_the_server(
    browser_as, web_config, second_school
):
    deputy = browser_as("deputy")
    form = deputy.get("/school/movement").text
    assert "выбыл в другую школу этого сервера" in form
    assert f'value="les|{OTHER_CLASS}"' in form
    response = deputy.post(
        "/school/movement",
        data={
            "csrf": csrf_of(form), "kind": "to_school", "student_id": "s-1",
            "day": "16.11.2026", "order_no": "№ 46-у от 13.11.2026",
            "destination": f"les|{OTHER_CLASS}",
        },
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert "выбыл в другую школу с 16.11.2026" in response.text
    conn = connect(web_config.database)
    places = [
        tuple(r)
        for r in conn.execute(
            "SELECT class_id, starts, ends FROM memberships WHERE student_id = 's-1' "
            "ORDER BY starts"
        )
    ]
    conn.close()
    assert places[-2:] == [(CLASS_5, "2026-09-01", "2026-11-15"), (OTHER_CLASS, "2026-11-16", None)]


def test_a_server_with_one_school_offers_no_other_school(browser_as):
    assert "выбыл в другую школу" not in browser_as("deputy").get("/school/movement").text
