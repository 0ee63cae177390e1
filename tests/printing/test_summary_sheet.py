"""Сводная ведомость on the fixture school (tests/reports_school.py), figures counted by hand."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from pypdf import PdfReader

from server.printing import render_pdf, table_xlsx
from server.reports.summary_sheet import summary_sheet
from tests.factories import CLASS_5, CLASS_6
from tests.reports_school import Q1, YEAR_PERIOD


def test_summary_sheet_of_class_5_has_quarter_and_year_marks(school_db):
    sheet = summary_sheet(school_db, CLASS_5)
    assert sheet.class_name == "5"
    assert [p.id for p in sheet.periods] == [Q1, YEAR_PERIOD]
    assert [s.name for s in sheet.subjects] == ["Математика", "Русский язык"]
    assert [r.student_id for r in sheet.rows] == ["s-1", "s-2", "s-3", "s-4"]
    assert [r.number for r in sheet.rows] == [1, 2, 3, 4]
    math = [sheet.mark(s, "math", Q1) for s in ("s-1", "s-2", "s-3", "s-4")]
    russian = [sheet.mark(s, "russian", Q1) for s in ("s-1", "s-2", "s-3", "s-4")]
    assert math == [5, 3, 2, 4]
    assert russian == [3, 4, 4, 4]
    assert sheet.mark("s-1", "math", YEAR_PERIOD) == 5
    assert sheet.mark("s-2", "math", YEAR_PERIOD) is None


def test_summary_sheet_of_class_6_holds_only_its_pupils(school_db):
    sheet = summary_sheet(school_db, CLASS_6)
    assert [r.student_name for r in sheet.rows] == ["Дмитриев Егор", "Ершова Жанна"]
    assert sheet.mark("s-5", "math", YEAR_PERIOD) == 5
    assert sheet.mark("s-6", "math", Q1) == 4


def test_summary_sheet_flat_table_has_a_line_per_pupil_and_subject(school_db):
    header, rows = summary_sheet(school_db, CLASS_5).table()
    assert header == ["№", "Ученик", "Предмет", "1 четверть", "Год"]
    assert len(rows) == 8
    assert rows[0] == [1, "Алексеев Артём", "Математика", 5, 5]
    assert rows[1] == [1, "Алексеев Артём", "Русский язык", 3, None]
    book = load_workbook(io.BytesIO(table_xlsx("Сводная ведомость", header, rows)))
    assert [c.value for c in book.active[3]] == [1, "Алексеев Артём", "Математика", 5, 5]


def test_summary_sheet_pdf_prints_the_grid_per_period(school_db):
    pdf = render_pdf("summary_sheet", summary_sheet(school_db, CLASS_5).print_data())
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) == 2  # 1 четверть, Год (004 §1.4: the regulation's word)
    assert "Сводная ведомость учёта успеваемости" in pages[0]
    assert "1 четверть" in pages[0] and pages[1].splitlines()[1].endswith(". Год")
    assert "Математика" in pages[0] and "Григорьева Дарья" in pages[0]
    line = next(x for x in pages[0].splitlines() if "Васильев" in x)
    assert line.split()[-2:] == ["2", "4"]  # math, russian of s-3 in the first quarter
