"""Consent is recorded for a parent and one child (000 §5.5, 152-FZ): one child's paper never
opens another child's diary, portfolio or documents; the class teacher sees, per child, who has
and who has not consented and acknowledged."""

from __future__ import annotations

from server.storage import web as web_storage
from server.storage.db import connect, create_schema, transaction
from tests.factories import CLASS_5, CLASS_6
from tests.server.web.conftest import csrf_of


def _second_child(web_config, *, consent: str | None = None) -> None:
    """p-1's second child s-5 is in 6th grade; consent for s-1 only unless `consent`."""
    conn = connect(web_config.database)
    with transaction(conn):
        conn.execute("INSERT INTO parent_links VALUES ('p-1', 's-5')")
        if consent:
            web_storage.set_consent(conn, "p-1", consent, "rus", 0.0, "", student_id="s-5")
    conn.close()


def test_consent_for_one_child_leaves_the_other_childs_diary_closed(browser_as, web_config):
    _second_child(web_config)
    parent = browser_as("parent")
    assert parent.get("/diary/s-1?week=2026-09-07").status_code == 200
    closed = parent.get("/diary/s-5?week=2026-09-07")
    assert closed.status_code == 403 and "152-ФЗ" in closed.text
    assert parent.get("/portfolio/s-5").status_code == 403
    assert parent.get("/portfolio/s-1").status_code == 200
    # the list of children still opens: one of them may be read
    assert "Чей дневник открыть?" in parent.get("/diary").text


def test_the_other_child_opens_once_the_class_teacher_records_their_consent(browser_as, web_config):
    _second_child(web_config)
    teacher = browser_as("rus")  # class teacher of s-5's class
    page = teacher.get(f"/classes/{CLASS_6}").text
    assert "Согласие дано: 0 из" in page
    response = teacher.post(
        f"/classes/{CLASS_6}/consent",
        data={"csrf": csrf_of(page), "parent_id": "p-1", "student_id": "s-5", "status": "given"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "Согласие дано: 1 из" in teacher.get(f"/classes/{CLASS_6}").text
    assert browser_as("parent").get("/diary/s-5?week=2026-09-07").status_code == 200


def test_consent_form_for_a_child_of_another_class_is_refused(browser_as, web_config):
    _second_child(web_config)
    teacher = browser_as("math")  # class teacher of 5th grade, not of s-5's class
    page = teacher.get(f"/classes/{CLASS_5}").text
    response = teacher.post(
        f"/classes/{CLASS_5}/consent",
        data={"csrf": csrf_of(page), "parent_id": "p-1", "student_id": "s-5", "status": "given"},
    )
    assert response.status_code == 400
    conn = connect(web_config.database)
    assert (
        conn.execute("SELECT count(*) FROM child_consents WHERE student_id = 's-5'").fetchone()[0]
        == 0
    )
    conn.close()


def test_a_pupil_needs_a_parents_consent_for_themselves(browser_as, web_config):
    conn = connect(web_config.database)
    with transaction(conn):
        conn.execute("DELETE FROM child_consents")
        # p-1's consent for another child says nothing about s-1
        conn.execute("INSERT INTO parent_links VALUES ('p-1', 's-5')")
        web_storage.set_consent(conn, "p-1", "given", "rus", 0.0, "", student_id="s-5")
    conn.close()
    assert browser_as("pupil").get("/diary/s-1?week=2026-09-07").status_code == 403


def test_an_upgraded_database_copies_each_parents_consent_to_their_children(tmp_path):
    conn = connect(tmp_path / "old.sqlite")
    create_schema(conn)
    with transaction(conn):
        conn.execute("DELETE FROM meta WHERE key = 'child_consents'")
        conn.execute("DELETE FROM schema_migrations")  # made before numbered migrations
        conn.execute("INSERT INTO parents VALUES ('p', 'А', 'Б', '')")
        for child in ("a", "b"):
            conn.execute(
                "INSERT INTO students (id, last_name, first_name) VALUES (?, 'А', 'В')", (child,)
            )
            conn.execute("INSERT INTO parent_links VALUES ('p', ?)", (child,))
        conn.execute("INSERT INTO consents VALUES ('p', 'given', 'rus', 1.0, '')")
    create_schema(conn)
    found = web_storage.consents(conn, ["p"])
    assert sorted(found) == [("p", "a"), ("p", "b")]
    assert {c.status for c in found.values()} == {"given"}
    conn.close()
