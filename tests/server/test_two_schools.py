"""Several schools in one database: each person sees and writes only their own school.

The database holds school A (the report fixture school), school B of the same district and
school C of another district (tests/two_schools.py). Everything goes through the real app.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.archive.closing import close_year
from server.config import ServerConfig
from server.errors import NotFound
from server.seeding import load_directory
from server.storage import directory as directory_storage
from server.storage import web as web_storage
from server.storage.db import connect, transaction
from shared import wire
from shared.model import Directory, Role, Student, portfolio_id
from tests.factories import CLASS_5, MATH_5, PASSWORD
from tests.server.school_kit import Replica, Writer, assert_russian_error
from tests.server.web.conftest import log_in
from tests.two_schools import (
    CLASS_B5,
    CLASS_C7,
    MATH_B5,
    MATH_C7,
    YEAR_B,
    school_b,
    two_schools_copy,
)

BASE_URL = "http://testserver.local"
# names of school A's pupils and staff: none may appear on a page of school B
NAMES_A = ("Алексеев", "Борисова", "Васильев", "Григорьева", "Дмитриев", "Ершова", "Петрова")


@pytest.fixture(scope="session")
def two_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("two-schools")


@pytest.fixture
def config(two_template: Path, tmp_path: Path) -> ServerConfig:
    config = two_schools_copy(two_template, tmp_path / "two.sqlite")
    conn = connect(config.database)
    with transaction(conn):
        web_storage.set_consent(conn, "b-p-1", "given", "b-math", time.time(), "")
    conn.close()
    return config


@pytest.fixture
def app_client(config: ServerConfig) -> Iterator[TestClient]:
    with TestClient(create_app(config), base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def browser(config: ServerConfig) -> Iterator[Callable[[str], TestClient]]:
    """browser("b-math") -> a TestClient with that person logged in on the web."""
    clients: list[TestClient] = []

    def make(login: str) -> TestClient:
        client = TestClient(create_app(config), base_url=BASE_URL)
        client.__enter__()
        clients.append(client)
        assert log_in(client, login).status_code == 303
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def api_login(client: TestClient, login: str) -> dict:
    response = client.post(
        "/api/v1/auth/login",
        json={"login": login, "password": PASSWORD, "device_name": f"ноутбук {login}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['token']}"}


def sync(client: TestClient, token: dict, request: wire.SyncRequest) -> wire.SyncResponse:
    response = client.post(
        "/api/v1/sync",
        content=wire.encode(request),
        headers={"Content-Type": wire.CONTENT_TYPE, **bearer(token)},
    )
    assert response.status_code == 200, response.text
    return wire.decode(response.content)


def rows(config: ServerConfig, sql: str, params: tuple = ()) -> list[tuple]:
    conn = connect(config.database)
    try:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


# ----------------------------------------------------------------- the directory and sync


def test_load_full_takes_the_schools_newest_year_and_refuses_to_guess(config) -> None:
    conn = connect(config.database)
    try:
        b = directory_storage.load_full(conn, school_id="sch-b")
        a = directory_storage.load_full(conn, school_id="sch")
        with pytest.raises(LookupError):
            directory_storage.load_full(conn)  # several schools: no guessing
        with pytest.raises(LookupError):  # a year of another school is not B's
            directory_storage.load_full(conn, a.year.id, school_id="sch-b")
    finally:
        conn.close()
    assert b.school.id == "sch-b" and b.year.id == "b-2026-2027"
    assert {s.id for s in b.students} == {"b-s-1", "b-s-2", "b-s-3"}
    assert {s.id for s in b.staff} == {"b-t-math", "b-t-deputy", "b-t-admin"}
    assert [j.id for j in b.journals] == [MATH_B5]
    assert {c.id for c in b.classes} == {CLASS_B5}
    assert {s.id for s in a.students} == {f"s-{i}" for i in range(1, 7)}
    assert "b-t-math" not in {s.id for s in a.staff}
    assert {s.id for s in a.subjects} >= {"math", "russian"}  # the shared catalogue


def test_teacher_of_b_gets_only_bs_directory_and_journals(app_client) -> None:
    token = api_login(app_client, "b-math")
    response = app_client.get("/api/v1/directory", headers=bearer(token))
    assert response.status_code == 200
    directory = msgspec.json.decode(response.content, type=Directory)
    assert directory.school.id == "sch-b"
    assert {s.id for s in directory.students} == {"b-s-1", "b-s-2", "b-s-3"}
    assert {s.id for s in directory.staff} == {"b-t-math", "b-t-deputy", "b-t-admin"}
    assert [j.id for j in directory.journals] == [MATH_B5]
    # a quiet sync offers B's journal and B's class portfolio only
    reply = sync(app_client, token, wire.SyncRequest(quiet=b"\0" * 32))
    assert sorted(j.journal_id for j in reply.journals) == sorted(
        [MATH_B5, portfolio_id(YEAR_B, CLASS_B5)]
    )
    # A's journal document is not found for B's teacher, B's is there
    missing = app_client.get(f"/api/v1/journals/{MATH_5}/document", headers=bearer(token))
    assert_russian_error(missing, 404)
    found = app_client.get(f"/api/v1/journals/{MATH_B5}/document", headers=bearer(token))
    assert found.status_code == 200


def test_a_push_of_b_into_as_journal_is_refused_and_changes_nothing(app_client, config) -> None:
    token = api_login(app_client, "b-math")
    before = rows(config, "SELECT * FROM events WHERE journal_id = ? ORDER BY id", (MATH_5,))
    writer = Writer(token)
    replica = Replica(MATH_5)
    replica.add(writer.lesson("X1"), writer.mark("X1", "s-1", 2))
    (reply,) = sync(app_client, token, wire.SyncRequest(journals=(replica.push(),))).journals
    assert reply.outcome is wire.Outcome.REFUSED and reply.rule == "no_access"
    assert "Нет доступа" in reply.message_ru
    after = rows(config, "SELECT * FROM events WHERE journal_id = ? ORDER BY id", (MATH_5,))
    assert after == before
    assert rows(
        config, "SELECT count(*) FROM marks WHERE author = 'b-t-math' AND journal_id = ?", (MATH_5,)
    ) == [(0,)]
    # the same teacher's push to B's own journal is taken
    replica = Replica(MATH_B5)
    replica.add(writer.lesson("X2"), writer.mark("X2", "b-s-1", 5))
    (reply,) = sync(app_client, token, wire.SyncRequest(journals=(replica.push(),))).journals
    assert reply.outcome is wire.Outcome.ACCEPTED and not reply.event_ids


def test_deputy_of_b_administers_only_b(app_client, config) -> None:
    token = api_login(app_client, "b-deputy")
    journals = app_client.get("/api/v1/journals", headers=bearer(token)).json()
    assert {j["id"] for j in journals} == {MATH_B5}
    conn = connect(config.database)
    try:  # closing A's year by its id is not B's business
        with pytest.raises(NotFound):
            close_year(conn, login="b-deputy", year_id="2026-2027", on=None)
    finally:
        conn.close()
    assert rows(config, "SELECT count(*) FROM year_closures") == [(0,)]


def test_system_administrator_of_b_sees_and_revokes_only_bs_devices(app_client) -> None:
    a_token = api_login(app_client, "math")
    b_token = api_login(app_client, "b-math")
    admin = api_login(app_client, "b-admin")
    listed = app_client.get("/api/v1/devices", headers=bearer(admin)).json()
    ids = {d["id"] for d in listed}
    assert b_token["device_id"] in ids and a_token["device_id"] not in ids
    refused = app_client.post(
        f"/api/v1/devices/{a_token['device_id']}/revoke", headers=bearer(admin)
    )
    assert_russian_error(refused, 403)
    taken = app_client.post(f"/api/v1/devices/{b_token['device_id']}/revoke", headers=bearer(admin))
    assert taken.status_code == 200, taken.text


# ----------------------------------------------------------------- the web pages


def test_class_teacher_of_b_sees_only_b_and_is_refused_as_class_by_id(browser, config) -> None:
    client = browser("b-math")
    classes = client.get("/classes/").text
    assert f'"/classes/{CLASS_B5}"' in classes and f'"/classes/{CLASS_5}"' not in classes
    page = client.get(f"/classes/{CLASS_B5}").text
    assert "Белов" in page and not any(name in page for name in NAMES_A)
    assert client.get(f"/classes/{CLASS_5}").status_code == 404
    assert client.get(f"/classes/{CLASS_5}/extract/s-1").status_code == 404
    assert client.get(f"/classes/{CLASS_B5}/extract/s-1").status_code == 404
    refused = rows(
        config, "SELECT action FROM audit_log WHERE login = 'b-math' AND outcome = 'refused'"
    )
    assert ("class_view",) in refused and ("diary_extract",) in refused


def test_parent_and_pupil_of_b_see_their_own_diary_and_not_as(browser) -> None:
    parent = browser("b-parent")
    page = parent.get("/diary/b-s-1?week=2026-09-07").text
    assert "Белов" in page and "Натуральные числа" in page
    assert parent.get("/diary/s-1?week=2026-09-07").status_code == 403
    pupil = browser("b-pupil")
    assert pupil.get("/diary/s-2").status_code == 403


def test_deputy_of_b_reports_only_b(browser) -> None:
    client = browser("b-deputy")
    report = client.get("/reports/results?date_from=2026-09-01&date_to=2026-10-31").text
    assert "Белов" in report and not any(name in report for name in NAMES_A)
    assert client.get(f"/reports/summary?class_id={CLASS_5}&format=pdf").status_code == 404
    assert client.get(f"/reports/results?class_id={CLASS_5}").status_code == 404
    periods = client.get("/periods").text
    assert f'value="{CLASS_B5}"' in periods and f'value="{CLASS_5}"' not in periods
    district = client.get("/district").text
    assert "Вторая СОШ" in district and "Тестовая СОШ" not in district


def test_director_of_a_sees_only_as_views_in_the_audit_log(browser) -> None:
    browser("b-math").get(f"/classes/{CLASS_B5}")
    browser("math").get(f"/classes/{CLASS_5}")
    log = browser("director").get("/audit").text
    assert CLASS_5 in log and CLASS_B5 not in log and "b-math" not in log


# ----------------------------------------------------------------- the district office


def _number(cell: str) -> object:
    try:
        return float(cell.replace(",", "."))
    except ValueError:
        return cell


def district_rows(
    client: TestClient, query: str = "", *, pupils: bool = False
) -> dict[tuple[str, str], list]:
    """(school, grade) -> the figures, from the CSV download (numbers as numbers): the marks'
    columns, or (`pupils`) the pupils by category and their shares (issue 16)."""
    csv_text = client.get(f"/district?format=csv{query}").content.decode("utf-8-sig")
    lines = [line.split(";") for line in csv_text.strip().splitlines()][1:]
    return {(r[0], r[1]): [_number(c) for c in (r[8:] if pupils else r[2:8])] for r in lines}


def test_district_sees_both_schools_of_its_district_with_hand_counted_figures(browser) -> None:
    client = browser("district")
    page = client.get("/district").text
    assert "Тестовая СОШ" in page and "Вторая СОШ" in page and "Соседняя СОШ" not in page
    assert not any(name in page for name in NAMES_A) and "Белов" not in page
    got = district_rows(client)
    # A (tests/reports_school.py): grade 5 — 14 marks 5,4,4,3,2,5,3,2,4,5,3,4,2,4 and 4 missed
    # (н, б, н, н); grade 6 — 5, 4. B: 5, 2, 4, 3, 3 and one «н».
    assert got == {
        ("МБОУ «Тестовая СОШ»", "все"): [6, 16, 3.69, 62.5, 81.2, 4],
        ("МБОУ «Тестовая СОШ»", "5 кл."): [4, 14, 3.57, 57.1, 78.6, 4],
        ("МБОУ «Тестовая СОШ»", "6 кл."): [2, 2, 4.5, 100.0, 100.0, 0],
        ("МБОУ «Вторая СОШ»", "все"): [3, 5, 3.4, 40.0, 80.0, 1],
        ("МБОУ «Вторая СОШ»", "5 кл."): [3, 5, 3.4, 40.0, 80.0, 1],
        ("Итого по району", "все"): [9, 21, 3.62, 57.1, 81.0, 5],
    }
    # the year's marks so far: A — s-1 5 (отличник) in 5; s-5 5, s-6 4 in 6; the others have
    # none; B has no period marks. Отл., хор., с одной «3», неусп., н/а, осв., shares by pupils
    pupils = district_rows(client, pupils=True)
    assert pupils[("МБОУ «Тестовая СОШ»", "все")] == [2, 1, 0, 0, 0, 0, 100.0, 100.0]
    assert pupils[("МБОУ «Вторая СОШ»", "все")] == [0, 0, 0, 0, 0, 0, "", ""]
    assert pupils[("Итого по району", "все")] == [2, 1, 0, 0, 0, 0, 100.0, 100.0]


def test_district_figures_for_a_date_range(browser) -> None:
    client = browser("district")
    # 07.09–08.09: A — L1 5, 4 (s-3 н), R1 3, 4 (s-3 н), M1 5, 4; B — BL1 5, 2 (b-s-3 н)
    got = district_rows(client, "&date_from=2026-09-07&date_to=2026-09-08")
    assert got[("МБОУ «Тестовая СОШ»", "все")] == [6, 6, 4.17, 83.3, 100.0, 2]
    assert got[("МБОУ «Вторая СОШ»", "все")] == [3, 2, 3.5, 50.0, 50.0, 1]
    assert got[("Итого по району", "все")] == [9, 8, 4.0, 75.0, 87.5, 3]
    bad = client.get("/district?date_from=2026-10-01&date_to=2026-09-01")
    assert bad.status_code == 400


def test_district_of_another_district_sees_neither_school(browser) -> None:
    client = browser("district-2")
    page = client.get("/district").text
    assert "Соседняя СОШ" in page
    assert "Тестовая СОШ" not in page and "Вторая СОШ" not in page
    got = district_rows(client)
    assert set(got) == {("МБОУ «Соседняя СОШ»", "все"), ("МБОУ «Соседняя СОШ»", "7 кл.")}
    assert got[("МБОУ «Соседняя СОШ»", "все")] == [1, 1, 4.0, 100.0, 100.0, 0]
    # the district office reads no diary, class or report
    for path in ("/diary/c-s-1", f"/classes/{CLASS_C7}", "/reports/results", "/periods"):
        assert client.get(path).status_code == 403, path
    assert MATH_C7  # the journal exists; only its figures reach the district


def test_a_district_account_needs_a_district_that_has_schools(config) -> None:
    from server.auth.service import create_account
    from server.errors import BadRequest

    conn = connect(config.database)
    try:
        with pytest.raises(BadRequest, match="Ни одна школа"):
            create_account(
                conn, login="nowhere", password=PASSWORD, role=Role.DISTRICT, person_id="Нигде"
            )
    finally:
        conn.close()
    assert rows(config, "SELECT count(*) FROM accounts WHERE login = 'nowhere'") == [(0,)]


# ----------------------------------------------------------------- adding a school


def test_a_school_whose_ids_belong_to_another_is_refused_whole(config) -> None:
    directory, parents, links = school_b()
    clash = msgspec.structs.replace(
        directory,
        school=msgspec.structs.replace(directory.school, id="sch-d"),
        students=(*directory.students, Student(id="s-1", last_name="Чужой", first_name="Ч")),
    )
    before = rows(config, "SELECT * FROM students ORDER BY id")
    conn = connect(config.database)
    try:
        with pytest.raises(ValueError, match="другой школе"):
            load_directory(conn, clash, parents, links)
    finally:
        conn.close()
    assert rows(config, "SELECT * FROM students ORDER BY id") == before
    assert rows(config, "SELECT count(*) FROM schools WHERE id = 'sch-d'") == [(0,)]


def test_quarantine_in_the_conflicts_report_stays_with_the_journals_school(
    app_client, browser
) -> None:
    token = api_login(app_client, "b-math")
    replica = Replica(MATH_5)
    replica.add(Writer(token).lesson("X1"))
    (reply,) = sync(app_client, token, wire.SyncRequest(journals=(replica.push(),))).journals
    assert reply.outcome is wire.Outcome.REFUSED
    assert "<td>карантин</td>" in browser("deputy").get("/reports/conflicts").text
    assert "<td>карантин</td>" not in browser("b-deputy").get("/reports/conflicts").text


def test_archive_page_of_b_shows_only_bs_years_and_jobs(browser, config) -> None:
    conn = connect(config.database)
    job_a = conn.execute(
        "INSERT INTO archive_jobs (year_id, login, state, started_at, heartbeat) "
        "VALUES ('2026-2027', 'deputy', 'failed', 0, 0)"
    ).lastrowid
    conn.close()
    a_page = browser("deputy").get("/archive").text
    assert f'href="/archive/jobs/{job_a}"' in a_page
    client = browser("b-deputy")
    page = client.get("/archive").text
    assert f'value="{MATH_B5}"' in page and 'value="2026-2027~' not in page  # B's journals only
    assert f'href="/archive/jobs/{job_a}"' not in page
    assert client.get(f"/archive/jobs/{job_a}").status_code == 404
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    refused = client.post("/archive/build", data={"csrf": csrf, "year_id": "2026-2027"})
    assert refused.status_code == 400 and "Нет такого учебного года" in refused.text
