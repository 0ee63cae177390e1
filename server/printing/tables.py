"""Spreadsheet downloads: XLSX (openpyxl) and CSV as Excel in Russia opens it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

_MAX_SHEET_TITLE = 31  # Excel's limit
_FORBIDDEN_IN_TITLE = str.maketrans({c: " " for c in "[]:*?/\\"})


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")  # Russian Excel reads a decimal comma
    if isinstance(value, dt.date):
        return f"{value:%d.%m.%Y}"
    text = str(value)
    # a cell starting with = + - @ would run as a formula in Excel (CSV injection)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def table_csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """UTF-8 with BOM and `;` separators: what Excel with Russian settings opens correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([_csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([_csv_cell(c) for c in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_cell(value: object) -> object:
    if value is None or isinstance(value, int | float | dt.date):
        return value
    text = str(value)
    return "'" + text if text[:1] == "=" else text


def table_xlsx(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """One sheet: the title on the first line, a bold header, then the rows; widths fitted."""
    book = Workbook()
    sheet = book.active
    sheet.title = (title.translate(_FORBIDDEN_IN_TITLE).strip() or "Отчёт")[:_MAX_SHEET_TITLE]
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=12)
    sheet.append([str(h) for h in header])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_xlsx_cell(c) for c in row])
    sheet.freeze_panes = "A3"
    for index, name in enumerate(header, start=1):
        values = [name, *(row[index - 1] for row in rows[:500] if len(row) >= index)]
        width = max(len(_csv_cell(v)) for v in values)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 6), 60)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
