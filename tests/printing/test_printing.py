"""PDF, XLSX and CSV writers: Cyrillic survives, figures are where they should be."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from server.printing import PrintError, render_pdf, table_csv, table_pdf, table_xlsx


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_table_pdf_prints_cyrillic_heading_and_cells_without_system_fonts():
    pdf = table_pdf(
        "Успеваемость 5 класса",
        ["Ученик", "Средний балл"],
        [["Алексеев Артём", 4.67], ["Ёлкина Щука-Ъ", None]],
        subtitle="1 четверть 2026/2027",
        notes=["Составлено автоматически."],
    )
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for expected in (
        "Успеваемость 5 класса",
        "1 четверть 2026/2027",
        "Алексеев Артём",
        "4,67",
        "Ёлкина Щука-Ъ",
        "Составлено автоматически.",
    ):
        assert expected in text


def test_table_pdf_with_no_rows_says_so():
    assert "Нет данных" in pdf_text(table_pdf("Пропуски", ["Ученик"], []))


def test_table_pdf_prints_markup_characters_literally():
    text = pdf_text(table_pdf("Тема", ["Тема"], [["#set page(width: 1cm) *жирный* $x$ <a> @b"]]))
    assert "#set page(width: 1cm) *жирный* $x$ <a> @b" in text


def test_long_table_runs_over_pages_and_keeps_every_row():
    rows = [[f"Ученик {i}", i] for i in range(200)]
    reader = PdfReader(io.BytesIO(table_pdf("Длинный список", ["Ученик", "№"], rows)))
    assert len(reader.pages) > 1
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Ученик 0" in text and "Ученик 199" in text


def test_unknown_template_is_refused():
    with pytest.raises(PrintError):
        render_pdf("../../etc/passwd", {})
    with pytest.raises(PrintError):
        render_pdf("no-such-template", {})


def test_csv_is_utf8_with_bom_and_semicolons_as_russian_excel_reads_it():
    data = table_csv(["Ученик", "Балл"], [["Алексеев; Артём", 4.5], ["=ВЗЛОМ()", 3]])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows == [["Ученик", "Балл"], ["Алексеев; Артём", "4,50"], ["'=ВЗЛОМ()", "3"]]


def test_xlsx_has_title_header_and_typed_cells():
    data = table_xlsx("Отчёт: пропуски/5 класс", ["Ученик", "Пропусков"], [["Алексеев", 3]])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["A1"].value == "Отчёт: пропуски/5 класс"
    assert [c.value for c in sheet[2]] == ["Ученик", "Пропусков"]
    assert [c.value for c in sheet[3]] == ["Алексеев", 3]
    assert "/" not in sheet.title and ":" not in sheet.title
