"""Period, year, exam and final marks, and «н/а», «осв.», «зач», «незач», reach every place
that prints or serves them — the summary sheet (page, PDF, XLSX, CSV), the diary's period
table, the class view, the diary extract and the transfer extract — in the regulation's words
(004 §1.4–1.5, 000 §3.2.2), never as codes or as 0.

Added to the fixture school (tests/reports_school.py) through the real sync path: class 5 is
a 9th grade here (exam and final columns) and Русский язык is зачёт/незачёт.
  Математика, year: s-2 «н/а» (по пропускам), s-3 «осв.» (справка); s-1 «Экз.» 5, «Итог» 5
  Русский язык, year: s-1 «зач», s-4 «незач»
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import msgspec
import openpyxl
import pytest

from server.reports.summary_sheet import summary_sheet
from server.seeding import load_journals
from server.storage import directory as directory_storage
from server.storage.db import connect, transaction
from shared import transfer
from shared.model import (
    MarkKind,
    MarkSpecial,
    NotAttestedReason,
    PeriodMarkGiven,
    Scale,
    ScaleSetting,
    SchoolClass,
)
from tests.factories import CLASS_5, MATH_5, RUSSIAN_5, YEAR
from tests.reports_school import YEAR_PERIOD, _Author
from tests.server.web.test_pages import pdf_text

CODE_IN_A_CELL = re.compile(r">\s*(pass|fail|na|exempt|not_attested|exam|final|year)\s*<")


def _year_mark(author: _Author, student: str, special: MarkSpecial, **fields) -> PeriodMarkGiven:
    return author.period(YEAR_PERIOD, student, 0, MarkKind.YEAR, special=special, **fields)


@pytest.fixture
def results(web_config):
    conn = connect(web_config.database)
    with transaction(conn):
        directory_storage.upsert(conn, [SchoolClass(id=CLASS_5, year_id=YEAR, grade=9)])
        directory_storage.set_scale(
            conn, "sch", ScaleSetting(scale=Scale.PASS_FAIL, subject_id="russian")
        )
    math = _Author("t-math", "d-math-results").at(dt.date(2026, 10, 28))
    rus = _Author("t-rus", "d-rus-results").at(dt.date(2026, 10, 28))
    events = {
        MATH_5: [
            _year_mark(math, "s-2", MarkSpecial.NOT_ATTESTED, na_reason=NotAttestedReason.ABSENCES),
            _year_mark(
                math,
                "s-3",
                MarkSpecial.EXEMPT,
                document="Справка ВК № 7",
                exempt_from=dt.date(2026, 11, 1),
                exempt_to=dt.date(2026, 12, 25),
            ),
            math.period(YEAR_PERIOD, "s-1", 5, MarkKind.EXAM),
            math.period(YEAR_PERIOD, "s-1", 5, MarkKind.FINAL),
        ],
        RUSSIAN_5: [
            _year_mark(rus, "s-1", MarkSpecial.PASS),
            _year_mark(rus, "s-4", MarkSpecial.FAIL),
        ],
    }
    refused = load_journals(conn, web_config, directory_storage.load_full(conn), events)
    assert refused == 0
    yield conn
    conn.close()


def _no_codes(text: str) -> None:
    assert CODE_IN_A_CELL.findall(text) == []


def test_summary_sheet_has_the_year_exam_and_final_columns_and_the_special_values(results):
    """000 §3.2.2, 004 §1.4: «Год», «Экз.», «Итог» in the sheet; «н/а», «осв.», «зач»,
    «незач» where the journal has them, plain numbers stay numbers."""
    sheet = summary_sheet(results, CLASS_5)
    assert [p.name for p in sheet.periods] == ["1 четверть", "Год", "Экз.", "Итог"]
    year, exam, final = (p.id for p in sheet.periods[1:])
    assert sheet.mark("s-2", "math", year) == "н/а"
    assert sheet.mark("s-3", "math", year) == "осв."
    assert sheet.mark("s-1", "math", year) == 5
    assert (sheet.mark("s-1", "math", exam), sheet.mark("s-1", "math", final)) == (5, 5)
    assert sheet.mark("s-1", "russian", year) == "зач"
    assert sheet.mark("s-4", "russian", year) == "незач"
    assert sheet.mark("s-2", "math", exam) is None
    grids = {g["period"]: g["rows"] for g in sheet.print_data()["grids"]}
    assert set(grids) == {"1 четверть", "Год", "Экз.", "Итог"}
    # columns: №, pupil, then the subjects by name (Математика, Русский язык)
    assert [r[2:] for r in grids["Год"]] == [["5", "зач"], ["н/а", ""], ["осв.", ""], ["", "незач"]]


def test_summary_sheet_files_print_the_words(browser_as, results):
    deputy = browser_as("deputy")
    url = f"/reports/summary?class_id={CLASS_5}&format="
    raw = deputy.get(url + "csv").content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(raw), delimiter=";"))
    header = lines[0]
    assert header[-4:] == ["1 четверть", "Год", "Экз.", "Итог"]
    by_row = {(r[2], r[3]): r[-4:] for r in lines[1:]}
    assert by_row[("Борисова Вера", "Математика")] == ["3", "н/а", "", ""]
    assert by_row[("Алексеев Артём", "Математика")] == ["5", "5", "5", "5"]
    assert by_row[("Григорьева Дарья", "Русский язык")] == ["4", "незач", "", ""]
    book = openpyxl.load_workbook(io.BytesIO(deputy.get(url + "xlsx").content))
    cells = [[c for c in row] for row in book.active.iter_rows(values_only=True)]
    assert ["Класс", "№", "Ученик", "Предмет", "1 четверть", "Год", "Экз.", "Итог"] in [
        list(r) for r in cells
    ]
    flat = [v for row in cells for v in row]
    assert {"н/а", "осв.", "зач", "незач"} <= set(flat)
    assert 5 in flat  # numbers stay numbers in the spreadsheet
    text = pdf_text(deputy.get(url + "pdf").content)
    for word in ("Год", "Экз.", "Итог", "н/а", "осв.", "незач"):
        assert word in text
    page = deputy.get(url + "html").text
    assert "н/а" in page and "осв." in page and "незач" in page
    _no_codes(page)


def _table_after(page: str, label: str) -> str:
    return page[page.index(label) :].split("</table>")[0]


def test_diary_period_table_shows_year_exam_final_and_zach(browser_as, results):
    page = browser_as("parent").get("/diary/s-1?week=2026-09-14").text
    table = _table_after(page, 'aria-label="Отметки за периоды"')
    heads = re.findall(r'<th scope="col">([^<]*)</th>', table)
    assert heads == ["Предмет", "1 четверть", "Год", "Экз.", "Итог"]
    rows = re.findall(r'<th scope="row">([^<]*)</th>((?:<td class="num">[^<]*</td>)+)', table)
    cells = {s: re.findall(r">([^<]*)</td>", tds) for s, tds in rows}
    assert cells == {"Математика": ["5", "5", "5", "5"], "Русский язык": ["3", "зач", "", ""]}
    assert "Учебный год" not in table
    _no_codes(table)


def test_class_view_shows_the_chosen_periods_mark_in_words(browser_as, results):
    page = browser_as("math").get(f"/classes/{CLASS_5}?period={YEAR_PERIOD}").text
    math = _table_after(page, 'aria-label="Отметки: Математика"')
    assert '<th scope="col">Год</th>' in math
    rows = dict(re.findall(r"<tr><td>([^<]+?)</td>.*?<td class=\"num\">([^<]*)</td></tr>", math))
    year = {name.split()[0]: mark for name, mark in rows.items()}
    assert year == {"Алексеев": "5", "Борисова": "н/а", "Васильев": "осв.", "Григорьева": ""}
    russian = _table_after(page, 'aria-label="Отметки: Русский язык"')
    assert "незач" in russian and ">зач<" in russian
    _no_codes(page)
    quarter = browser_as("math").get(f"/classes/{CLASS_5}?period={YEAR}-q1").text
    assert '<th scope="col">1 четверть</th>' in quarter


def test_diary_extract_prints_the_words(browser_as, results):
    response = browser_as("math").get(f"/classes/{CLASS_5}/extract/s-1?period={YEAR_PERIOD}")
    text = pdf_text(response.content)
    assert "Экз." in text and "Итог" in text and "зач" in text


def test_transfer_extract_carries_special_values_and_the_kinds(browser_as, results):
    url = f"/classes/{CLASS_5}/transfer/s-1"
    _, extract = transfer.decode_file(browser_as("math").get(url + "?format=json").content)
    got = [(a.subject, a.period, a.text) for a in extract.attestation]
    assert got == [
        ("Математика", "1 четверть", "5"),
        ("Математика", "Год", "5"),
        ("Математика", "Экз.", "5"),
        ("Математика", "Итог", "5"),
        ("Русский язык", "1 четверть", "3"),
        ("Русский язык", "Год", "зач"),
    ]
    zach = next(a for a in extract.attestation if a.text == "зач")
    assert (zach.value, zach.special, zach.column) == (0, "pass", "")
    page = browser_as("math").get(url).text
    assert '<td class="num">зач</td>' in page and "Экз." in page
    text = pdf_text(browser_as("math").get(url + "?format=pdf").content)
    assert "зач" in text and "Итог" in text


def test_extract_from_before_issue_16_still_reads():
    """A file written before the new fields decodes, and prints its number."""
    old = b'{"subject":"\xd0\x9c","period":"1 \xd1\x87","period_kind":"quarter","value":4}'
    mark = msgspec.json.decode(old, type=transfer.ExtractAttestation)
    assert (mark.text, mark.special, mark.column) == ("4", "", "")
