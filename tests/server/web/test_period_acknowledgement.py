"""Parents acknowledge the period marks (004 §2.2.2), beside the weekly acknowledgement; the
class teacher sees who has not (issue 16)."""

from __future__ import annotations

from server.storage.db import connect
from tests.factories import CLASS_5
from tests.server.web.conftest import csrf_of

Q1 = "2026-2027-q1"


def period_rows(web_config) -> list[tuple]:
    conn = connect(web_config.database)
    rows = conn.execute(
        "SELECT parent_id, student_id, week FROM acknowledgements WHERE week LIKE 'period:%'"
    ).fetchall()
    conn.close()
    return [tuple(r) for r in rows]


def test_parent_acknowledges_the_quarter_marks_and_the_class_teacher_sees_it(
    browser_as, web_config
):
    teacher = browser_as("math")
    before = teacher.get(f"/classes/{CLASS_5}?period={Q1}").text
    assert "Ознакомлен с отметками за «1 четверть»" in before
    parent = browser_as("parent")
    page = parent.get("/diary/s-1").text
    assert "С отметками за «1 четверть» ознакомлен(а)" in page
    response = parent.post(
        f"/diary/s-1/read-period?period={Q1}",
        data={"csrf": csrf_of(page)},
        follow_redirects=True,
    )
    assert "Вы ознакомились с отметками за «1 четверть»" in response.text
    assert period_rows(web_config) == [("p-1", "s-1", f"period:{Q1}")]
    after = teacher.get(f"/classes/{CLASS_5}?period={Q1}").text
    assert after.count('<span class="ok">да</span>') > before.count('<span class="ok">да</span>')


def test_forged_period_changes_nothing(browser_as, web_config):
    parent = browser_as("parent")
    csrf = csrf_of(parent.get("/diary/s-1").text)
    response = parent.post("/diary/s-1/read-period?period=q9", data={"csrf": csrf})
    assert response.status_code == 400 and "Неизвестный учебный период" in response.text
    response = parent.post(f"/diary/s-1/read-period?period={Q1}", data={"csrf": "forged"})
    assert response.status_code == 403
    assert period_rows(web_config) == []


def test_another_childs_period_and_the_wrong_role_are_refused(browser_as, web_config):
    parent = browser_as("parent")
    csrf = csrf_of(parent.get("/diary/s-1").text)
    assert (
        parent.post(f"/diary/s-2/read-period?period={Q1}", data={"csrf": csrf}).status_code == 403
    )
    teacher = browser_as("math")
    csrf = csrf_of(teacher.get(f"/classes/{CLASS_5}").text)
    response = teacher.post(f"/diary/s-1/read-period?period={Q1}", data={"csrf": csrf})
    assert response.status_code == 403
    assert period_rows(web_config) == []


def test_a_flood_of_acknowledgements_is_kept_once(browser_as, web_config):
    parent = browser_as("parent")
    csrf = csrf_of(parent.get("/diary/s-1").text)
    for _ in range(30):
        parent.post(f"/diary/s-1/read-period?period={Q1}", data={"csrf": csrf})
    assert period_rows(web_config) == [("p-1", "s-1", f"period:{Q1}")]
