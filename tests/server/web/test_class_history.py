"""Class lists keep history (000 §4.5): Алексеев (s-1) moves from 5 to 6 on 01.10 and keeps
his September in every view; a new pupil joins 5 on 20.09 with an empty row from that day."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from server.storage import directory as directory_storage
from server.storage.db import connect, transaction
from server.web import transfer
from shared.model import Membership, Student
from tests.factories import CLASS_5, CLASS_6
from tests.server.web.test_pages import pdf_text

MOVED = dt.date(2026, 10, 1)
JOINED = dt.date(2026, 9, 20)


@pytest.fixture
def history(web_config):
    conn = connect(web_config.database)
    with transaction(conn):
        conn.execute("DELETE FROM memberships WHERE student_id = 's-1'")
        directory_storage.upsert(
            conn,
            [
                Membership(
                    student_id="s-1",
                    class_id=CLASS_5,
                    starts=dt.date(2026, 9, 1),
                    ends=MOVED - dt.timedelta(days=1),
                ),
                Membership(student_id="s-1", class_id=CLASS_6, starts=MOVED),
                Student(id="s-7", last_name="Жуков", first_name="Захар"),
                Membership(student_id="s-7", class_id=CLASS_5, starts=JOINED),
            ],
        )
    conn.close()
    return web_config


def test_diary_of_a_moved_pupil_keeps_the_old_class_and_names_the_new(history, browser_as):
    page = browser_as("parent").get("/diary/s-1?week=2026-09-14").text
    assert "Дневник: Алексеев Артём, 6 класс" in page
    assert "Сложение" in page and 'data-label="Отметка">4</td>' in page


def test_old_class_view_keeps_the_leaver_and_shows_the_newcomer_empty(history, browser_as):
    page = browser_as("math").get(f"/classes/{CLASS_5}?period=2026-2027-q1").text
    assert "Алексеев А. (выбыл 30.09)" in page
    row = page[page.index("Алексеев А. (выбыл 30.09)") :].split("</tr>")[0]
    assert '<td class="num">5</td><td class="num">4</td><td class="num">5</td>' in row
    assert "Жуков З. (с 20.09)" in page
    newcomer = page[page.index("Жуков З. (с 20.09)</td>") :].split("</tr>")[0]
    cells = newcomer.split("</td>")[1:-1]
    assert cells and all(c == '<td class="num">' for c in cells)  # an empty row


def test_new_class_view_lists_the_pupil_from_the_day_he_came(history, browser_as):
    page = browser_as("rus").get(f"/classes/{CLASS_6}?period=2026-2027-q1").text
    assert "Алексеев А. (с 01.10)" in page


def test_reports_and_summary_sheet_keep_the_leavers_marks(history, browser_as):
    client = browser_as("deputy")
    raw = client.get(f"/reports/results?class_id={CLASS_5}&format=csv").content
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert any("Алексеев Артём" in r for r in rows)
    sheet = pdf_text(client.get(f"/reports/summary?class_id={CLASS_5}&format=pdf").content)
    assert "Алексеев Артём" in sheet and "Жуков Захар" in sheet


def test_transfer_extract_from_the_new_class_holds_the_old_class_marks(history):
    conn = connect(history.database)
    directory = directory_storage.load_full(conn)
    student = next(s for s in directory.students if s.id == "s-1")
    extract = transfer.build(conn, directory, student, "6", dt.date(2026, 11, 1))
    conn.close()
    assert sorted(m.value for m in extract.marks if m.subject == "Математика") == [4, 5, 5]
