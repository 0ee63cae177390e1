"""The next school year: opened from the current one with its periods, every pupil promoted,
kept back or graduated class by class, the load and class teachers carried forward; the year
before stays exactly as it was."""

from __future__ import annotations

from server.storage import directory as directory_storage
from server.storage.db import connect
from tests.factories import CLASS_5, CLASS_6, YEAR
from tests.server.web.conftest import csrf_of

NEXT = "2027-2028"


def _open(client, **outcomes):
    csrf = csrf_of(client.get("/school/next-year").text)
    return client.post(
        "/school/next-year",
        data={"csrf": csrf, **{f"o:{pid}": value for pid, value in outcomes.items()}},
    )


def _state(web_config):
    conn = connect(web_config.database)
    try:
        old = directory_storage.load_full(conn, YEAR)
        new = directory_storage.load_full(conn, school_id="sch")
        tables = {
            t: sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {t}"))
            for t in ("years", "classes", "memberships", "teaching", "promotions", "marks")
        }
        return old, new, tables
    finally:
        conn.close()


def test_opening_the_next_year_promotes_class_by_class_and_keeps_the_old_year(
    browser_as, web_config
):
    old_before, _, tables_before = _state(web_config)
    page = browser_as("director").get("/school/next-year").text
    assert 'name="o:s-1"' in page and "переведён условно" in page
    response = _open(
        browser_as("director"), **{"s-2": "repeats", "s-5": "conditional", "s-6": "graduated"}
    )
    assert response.status_code == 200, response.text
    assert "Учебный год 2027/2028 открыт" in response.text
    old, new, tables = _state(web_config)
    # the year before is untouched, marks included, apart from the graduate's last day
    assert old.classes == old_before.classes and old.teaching == old_before.teaching
    assert tables["marks"] == tables_before["marks"]
    assert {m for m in old.memberships if m.student_id != "s-6"} == {
        m for m in old_before.memberships if m.student_id != "s-6"
    }
    assert [m.ends.isoformat() for m in old.memberships if m.student_id == "s-6"] == ["2027-05-31"]
    # the new year, its quarters and halves, and its classes
    assert new.year.id == NEXT and new.year.starts.isoformat() == "2027-09-01"
    assert {p.name for p in new.periods} >= {"1 четверть", "4 четверть", "2 полугодие"}
    placed = {m.student_id: m.class_id for m in new.memberships}
    assert placed["s-1"] == f"{NEXT}-6"  # 5 → 6
    assert placed["s-2"] == f"{NEXT}-5"  # kept back in the 5th grade
    assert placed["s-5"] == f"{NEXT}-7"  # 6 → 7, conditionally
    assert "s-6" not in placed  # graduated
    # the load and class teachers follow their classes
    assert {(t.teacher_id, t.class_id, t.subject_id) for t in new.teaching} == {
        (
            t.teacher_id,
            t.class_id.replace(f"{YEAR}-5", f"{NEXT}-6").replace(f"{YEAR}-6", f"{NEXT}-7"),
            t.subject_id,
        )
        for t in old.teaching
    }
    assert {c.class_id for c in new.class_teachers} == {f"{NEXT}-6", f"{NEXT}-7"}
    outcomes = {r[1]: r[3] for r in tables["promotions"]}
    assert outcomes["s-2"] == "repeats" and outcomes["s-6"] == "graduated"
    assert outcomes["s-1"] == "promoted"
    # the journals of the new year appear for the laptops; the old ones stay in the database
    assert {j.year_id for j in new.journals} == {NEXT}
    assert {j.class_id for j in old.journals} == {CLASS_5, CLASS_6}


def test_the_next_year_opens_once(browser_as, web_config):
    assert _open(browser_as("deputy")).status_code == 200
    again = _open(browser_as("deputy"))
    assert again.status_code == 400 and "уже открыт" in again.text


def test_a_forged_outcome_changes_nothing(browser_as, web_config):
    _, _, before = _state(web_config)
    assert _open(browser_as("director"), **{"s-1": "expelled"}).status_code == 400
    assert _open(browser_as("director"), **{"s-999": "promoted"}).status_code == 400
    assert _state(web_config)[2] == before


def test_teachers_and_families_cannot_open_a_year(browser_as, web_config):
    _, _, before = _state(web_config)
    for login in ("math", "rus", "parent", "pupil", "records"):
        client = browser_as(login)
        response = client.post("/school/next-year", data={"csrf": csrf_of(client.get("/").text)})
        assert response.status_code == 403, login
    assert _state(web_config)[2] == before
