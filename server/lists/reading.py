"""A list file as a secretary saves it: CSV from Excel (UTF-8 or the Windows-1251 that Russian
Excel's plain «CSV» writes, «;» or «,») or an XLSX workbook (read by openpyxl). The kind of file
is told by its bytes, not its name: a renamed file still reads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
import zipfile

import msgspec
import openpyxl

MAX_LINES = 20_000  # a school of 2,000 pupils with two parents each fits; a runaway file does not
# Rows of a sheet, blank ones included, read at most: blank rows do not count as lines, but
# reading them takes time (about 4 s per 100 000 rows of four formatted cells at load 4).
MAX_SHEET_ROWS = 100_000


def _number(n: int) -> str:
    return f"{n:_}".replace("_", "\u00a0")  # «20 000», as Russian writes it


TOO_LONG = (
    f"В файле больше {_number(MAX_LINES)} строк с данными (пустые строки не считаются) — "
    "столько за один раз не загружается. Разделите файл на части (например, по классам) и "
    "загрузите их по очереди."
)
SHEET_TOO_LONG = (
    f"В листе Excel больше {_number(MAX_SHEET_ROWS)} строк вместе с пустыми оформленными. "
    "Удалите пустые строки после данных (выделите их — «Удалить») и сохраните файл снова."
)

# Letters Windows-1251 has for Serbian, Ukrainian and Belarusian and signs no Russian list uses:
# UTF-8 bytes (or any binary) read as Windows-1251 are full of them.
_NOT_RUSSIAN = set("ЂЃѓЉЊЌЋЏђљњќћџЎўЈҐґЅѕј¤¦¶µ®¬\u00ad\u0098")


class FileRefused(Exception):
    """The whole file cannot be read; `reasons` are Russian, for the person who sent it."""

    def __init__(self, reasons: list[str]):
        super().__init__("\n".join(reasons))
        self.reasons = reasons


class Table(msgspec.Struct, frozen=True, kw_only=True):
    """The header (as written) and every non-empty line as {header: text}, with its number in
    the file as the secretary sees it (the header is line 1)."""

    header: tuple[str, ...]
    lines: tuple[tuple[int, dict[str, str]], ...]
    encoding: str  # "utf-8", "windows-1251" or "xlsx"


def read_table(data: bytes, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> Table:
    """The file as a table whose columns are matched to `required` + `optional` whatever their
    case, spaces or «ё»; a missing required column refuses the file."""
    if data[:4] == b"PK\x03\x04":
        (header, rows), encoding = _xlsx(data), "xlsx"
    else:
        text, encoding = _decode(data)
        header, rows = _csv(text)
    if not header:
        return Table(header=(), lines=(), encoding=encoding)
    wanted = {_norm(c): c for c in (*required, *optional)}
    names = [wanted.get(_norm(h), h.strip()) for h in header]
    missing = [f"В файле нет столбца «{c}»." for c in required if c not in names]
    if missing:
        raise FileRefused(missing)
    lines = []
    for number, cells in rows:
        line = {n: (cells[i] if i < len(cells) else "") for i, n in enumerate(names)}
        if any(line.values()):
            lines.append((number, line))
            if len(lines) > MAX_LINES:
                raise FileRefused([TOO_LONG])
    return Table(header=tuple(names), lines=tuple(lines), encoding=encoding)


def _norm(name: str) -> str:
    return " ".join(name.replace("ё", "е").replace("Ё", "Е").lower().split())


def _decode(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1251", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        bad = [
            ch
            for ch in line
            if ch in _NOT_RUSSIAN
            or ch == "\ufffd"
            or (unicodedata.category(ch) == "Cc" and ch not in "\t")
        ]
        if bad:
            raise FileRefused(
                [
                    f"Строка {number}: файл не читается ни как UTF-8, ни как Windows-1251 "
                    "(в нём знаки, которых нет в русском тексте). Сохраните его в Excel "
                    "как «CSV UTF-8» или как книгу Excel (.xlsx)."
                ]
            )
    return text, "windows-1251"


def _csv(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    if not text.strip():
        return [], []
    first = text.splitlines()[0]
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=";,\t")
    except csv.Error as exc:
        raise FileRefused(
            ["В первой строке не найдены названия столбцов через «;» или «,»."]
        ) from exc
    dialect.doublequote = True  # Excel writes «"» inside a field as «""»
    reader = csv.reader(io.StringIO(text, newline=""), dialect=dialect)
    header: list[str] = []
    rows = []
    try:
        for cells in reader:
            if not header:
                header = [c.strip() for c in cells]
                continue
            rows.append((reader.line_num, [c.strip() for c in cells]))
    except csv.Error as exc:
        raise FileRefused([f"Строка {reader.line_num}: строка CSV повреждена ({exc})."]) from exc
    return header, rows


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileRefused(
            ["Файл не открывается как книга Excel (.xlsx): сохраните его заново в Excel."]
        ) from exc
    try:
        sheet = book.worksheets[0]
        header: list[str] = []
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_SHEET_ROWS:
                raise FileRefused([SHEET_TOO_LONG])
            cells = [_cell(v) for v in values]
            if not any(cells):  # blank rows (Excel keeps formatted ones) are not lines
                continue
            if not header:
                header = cells
                continue
            rows.append((number, cells))
            if len(rows) > MAX_LINES:  # refused whole, never cut short
                raise FileRefused([TOO_LONG])
    finally:
        book.close()
    return header, rows
