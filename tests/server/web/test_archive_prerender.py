"""Closing a period on the deputy's page prints that class's journals ahead for the archive."""

from __future__ import annotations

import threading

from server.storage.db import connect
from tests.factories import MATH_5, RUSSIAN_5
from tests.server.web.conftest import csrf_of


def _cached(config) -> set[str]:
    conn = connect(config.database)
    try:
        return {r[0] for r in conn.execute("SELECT journal_id FROM archive_pdf_cache")}
    finally:
        conn.close()


def test_closing_a_period_prints_the_classs_journals_ahead(browser_as, web_config):
    deputy = browser_as("deputy")
    form = deputy.get("/periods")
    response = deputy.post(
        "/periods/close",
        data={"class_id": "2026-2027-5", "period_id": "2026-2027-q1", "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    for thread in threading.enumerate():  # the page answered at once; the printing goes on
        if thread.name.startswith("archive-prerender-"):
            thread.join(timeout=120)
            assert not thread.is_alive()
    assert _cached(web_config) == {MATH_5, RUSSIAN_5}  # class 6 was not closed
