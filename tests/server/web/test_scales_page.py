"""The deputy's scales page (issue 16): the same service and checks as `journal-server scale`."""

from __future__ import annotations

from server.storage.db import connect
from tests.server.web.conftest import csrf_of


def rows(web_config, table: str) -> list[tuple]:
    conn = connect(web_config.database)
    found = [tuple(r) for r in conn.execute(f"SELECT * FROM {table}")]
    conn.close()
    return found


def test_deputy_sets_a_pass_fail_subject_and_a_weight(browser_as, web_config):
    deputy = browser_as("deputy")
    page = deputy.get("/scales").text
    assert "действуют правила по умолчанию" in page
    csrf = csrf_of(page)
    deputy.post(
        "/scales", data={"csrf": csrf, "scale": "pass_fail", "subject_id": "math", "grade": "6"}
    )
    deputy.post("/scales/weight", data={"csrf": csrf, "work_kind": "control", "weight": "3"})
    page = deputy.get("/scales").text
    assert "<td>6 кл.</td><td>Математика</td><td>зачёт / незачёт</td>" in page
    assert "<td>6</td><td>Математика</td><td>зачёт / незачёт</td>" in page  # the journal's
    assert rows(web_config, "scales") == [("sch", 6, "math", "pass_fail", 0)]
    assert rows(web_config, "work_weights") == [("sch", "control", 3)]


def test_forged_scale_input_is_a_russian_error_and_changes_nothing(browser_as, web_config):
    deputy = browser_as("deputy")
    csrf = csrf_of(deputy.get("/scales").text)
    for form in (
        {"scale": "ten_point", "grade": "5"},
        {"scale": "pass_fail", "grade": "50"},
        {"scale": "pass_fail", "grade": "пятый"},
        {"scale": "pass_fail", "subject_id": "nope"},
        {"scale": "pass_fail", "subject_id": "math", "modifiers": "1"},
        {"scale": "pass_fail"},
    ):
        response = deputy.post("/scales", data={"csrf": csrf, **form})
        assert response.status_code == 400, form
        assert "Не получилось" in response.text
    for form in ({"work_kind": "dance", "weight": "2"}, {"work_kind": "control", "weight": "9"}):
        assert deputy.post("/scales/weight", data={"csrf": csrf, **form}).status_code == 400
    assert rows(web_config, "scales") == [] and rows(web_config, "work_weights") == []


def test_a_teacher_cannot_set_scales(browser_as, web_config):
    teacher = browser_as("math")
    csrf = csrf_of(teacher.get("/classes").text)
    response = teacher.post("/scales", data={"csrf": csrf, "scale": "none", "grade": "5"})
    assert response.status_code == 403
    assert rows(web_config, "scales") == []


def test_a_flood_of_the_same_setting_keeps_one_row(browser_as, web_config):
    deputy = browser_as("deputy")
    csrf = csrf_of(deputy.get("/scales").text)
    for _ in range(30):
        deputy.post("/scales", data={"csrf": csrf, "scale": "none", "grade": "1"})
    assert rows(web_config, "scales") == [("sch", 1, "", "none", 0)]
