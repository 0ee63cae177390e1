"""Class lists and staff from CSV, the way a school secretary keeps them in Excel.

students.csv: Фамилия;Имя;Отчество;Дата рождения;Класс   (dates dd.mm.yyyy, class «5» or «5А»)
staff.csv:    Фамилия;Имя;Отчество;Должность;Предметы и классы
              («Математика: 5, 6, 7; Физика: 7, 8»)
Every line is checked first; on any error nothing is written and each bad line is reported.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from server.naming import slug
from server.storage import directory as directory_storage
from server.storage.db import transaction
from shared.model import (
    Membership,
    Period,
    PeriodKind,
    Role,
    School,
    SchoolClass,
    SchoolYear,
    Staff,
    Student,
    Subject,
    TeachingAssignment,
)

POSITIONS = {
    "учитель": Role.TEACHER,
    "директор": Role.DIRECTOR,
    "заместитель директора по увр": Role.DEPUTY,
    "заместитель директора": Role.DEPUTY,
    "документовед": Role.RECORDS_OFFICER,
    "системный администратор": Role.SYSADMIN,
}


class ImportFailed(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportResult:
    rows: list = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


STUDENT_COLUMNS = ("Фамилия", "Имя", "Класс")
STAFF_COLUMNS = ("Фамилия", "Имя", "Должность", "Предметы и классы")


def _read(path: Path, required: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """The file's lines as dicts; a missing required column refuses the whole file."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(
            ["Файл не в кодировке UTF-8: в Excel сохраните его как «CSV UTF-8»."]
        ) from exc
    if not text.strip():
        return []
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=";,\t")
    except csv.Error as exc:
        raise ImportFailed(
            ["В первой строке не найдены названия столбцов через «;» или «,»."]
        ) from exc
    dialect.doublequote = True  # Excel writes «"» inside a field as «""»; one line can't show it
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = {(k or "").strip() for k in reader.fieldnames or ()}
    missing = [f"В файле нет столбца «{c}»." for c in required if c not in header]
    if missing:
        raise ImportFailed(missing)
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]


# the usual calendar: quarters for grades 1–9, halves for 10–11 (month, day of year Y or Y+1)
_CALENDAR = (
    ("q1", PeriodKind.QUARTER, 1, "1 четверть", (0, 9, 1), (0, 10, 24)),
    ("q2", PeriodKind.QUARTER, 2, "2 четверть", (0, 11, 5), (0, 12, 28)),
    ("q3", PeriodKind.QUARTER, 3, "3 четверть", (1, 1, 12), (1, 3, 22)),
    ("q4", PeriodKind.QUARTER, 4, "4 четверть", (1, 4, 1), (1, 5, 31)),
    ("h1", PeriodKind.HALF, 1, "1 полугодие", (0, 9, 1), (0, 12, 28)),
    ("h2", PeriodKind.HALF, 2, "2 полугодие", (1, 1, 12), (1, 5, 31)),
    ("y", PeriodKind.YEAR, 1, "Учебный год", (0, 9, 1), (1, 5, 31)),
)


def school_year_calendar(
    school_id: str, year_id: str, first_year: int
) -> tuple[SchoolYear, list[Period]]:
    """The school year `first_year`/`+1` with the usual quarters (grades 1–9), halves (10–11)
    and the year itself; dates are edited afterwards where a school's differ."""

    def day(offset_month_day: tuple[int, int, int]) -> dt.date:
        offset, month, day_ = offset_month_day
        return dt.date(first_year + offset, month, day_)

    year = SchoolYear(
        id=year_id,
        school_id=school_id,
        name=f"{first_year}/{first_year + 1}",
        starts=dt.date(first_year, 9, 1),
        ends=dt.date(first_year + 1, 5, 31),
    )
    periods = [
        Period(
            id=f"{year_id}-{suffix}",
            year_id=year_id,
            kind=kind,
            number=number,
            name=title,
            starts=day(starts),
            ends=day(ends),
        )
        for suffix, kind, number, title, starts, ends in _CALENDAR
    ]
    return year, periods


def add_school(
    conn: sqlite3.Connection, *, school_id: str, name: str, district: str, first_year: int
) -> SchoolYear:
    """A new school beside those the server holds, with its school year `first_year`/`+1` and
    the usual quarters and halves; its lists are imported next (import_students, import_staff).
    Refused, nothing written, if the school or its year already exists."""
    errors = []
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", school_id):
        errors.append("Код школы: латинские строчные буквы, цифры и «-», до 40 знаков.")
    if not name.strip():
        errors.append("Не указано название школы.")
    if not 2000 <= first_year <= 2100:
        errors.append(f"Год начала учебного года {first_year} вне 2000–2100.")
    if errors:
        raise ImportFailed(errors)
    if conn.execute("SELECT 1 FROM schools WHERE id = ?", (school_id,)).fetchone():
        raise ImportFailed([f"Школа «{school_id}» уже есть в базе."])

    year, periods = school_year_calendar(
        school_id, f"{school_id}-{first_year}-{first_year + 1}", first_year
    )
    rows = [School(id=school_id, name=name.strip(), district=district.strip()), year, *periods]
    clashes = directory_storage.foreign_rows(conn, school_id, rows)
    if clashes:
        raise ImportFailed([f"{c[0].upper()}{c[1:]}." for c in clashes])
    with transaction(conn):
        directory_storage.upsert(conn, rows)
    return year


def school_year(conn: sqlite3.Connection, school_id: str | None) -> sqlite3.Row:
    """The newest year of the school lists are imported into; with several schools in the
    database the school must be named."""
    schools = directory_storage.schools_with_years(conn)
    if school_id is None and len(schools) > 1:
        raise ImportFailed(
            [f"В базе несколько школ ({', '.join(schools)}): укажите, в какую (--school)."]
        )
    row = conn.execute(
        "SELECT id, school_id FROM years WHERE ? IS NULL OR school_id = ? "
        "ORDER BY starts DESC LIMIT 1",
        (school_id, school_id),
    ).fetchone()
    if row is None:
        raise ImportFailed(
            [f"Школа «{school_id}» не найдена: сначала добавьте её (add-school)."]
            if school_id
            else ["В базе нет учебного года: сначала добавьте школу (add-school)."]
        )
    return row


def _refuse_foreign(conn: sqlite3.Connection, year_id: str, rows: list) -> None:
    """Ids of this import that belong to another school refuse it whole."""
    owner = conn.execute("SELECT school_id FROM years WHERE id = ?", (year_id,)).fetchone()
    clashes = directory_storage.foreign_rows(conn, owner["school_id"], rows)
    if clashes:
        raise ImportFailed(
            [f"{c[0].upper()}{c[1:]}: такие данные нельзя загрузить в эту школу." for c in clashes]
        )


def _class_for(conn: sqlite3.Connection, year_id: str, label: str) -> SchoolClass | None:
    return class_of(year_id, label)


def class_of(year_id: str, label: str) -> SchoolClass | None:
    """«5», «5А», «5 а», «11-Б» as a class of the year; None if it is not a class label."""
    match = re.fullmatch(r"(\d{1,2})\s*-?\s*([А-ЯЁа-яё]?)", label.strip())
    if not match or not 1 <= int(match.group(1)) <= 11:
        return None
    grade, letter = int(match.group(1)), match.group(2).upper()
    return SchoolClass(
        id=f"{year_id}-{grade}{slug(letter) if letter else ''}",
        year_id=year_id,
        grade=grade,
        letter=letter,
    )


def _person_id(prefix: str, *parts: str) -> str:
    digest = hashlib.sha1("|".join(parts).encode()).hexdigest()[:6]
    return f"{prefix}-{slug(parts[0])}-{digest}"


def import_students(
    conn: sqlite3.Connection, path: Path, year_id: str, joined: dt.date | None = None
) -> int:
    """Add pupils and their class membership; returns how many lines were imported."""
    year = conn.execute("SELECT starts FROM years WHERE id = ?", (year_id,)).fetchone()
    if year is None:
        raise ImportFailed([f"Учебный год {year_id} не найден: сначала создайте школу."])
    starts = joined or dt.date.fromisoformat(year["starts"])
    rows, errors = [], []
    for number, line in enumerate(_read(path, STUDENT_COLUMNS), start=2):
        try:
            last, first = line["Фамилия"], line["Имя"]
            birth = (
                dt.datetime.strptime(line["Дата рождения"], "%d.%m.%Y").date()
                if line.get("Дата рождения")
                else None
            )
        except KeyError as exc:
            raise ImportFailed([f"В файле нет столбца «{exc.args[0]}»."]) from exc
        except ValueError:
            errors.append(f"Строка {number}: дата рождения не в формате ДД.ММ.ГГГГ.")
            continue
        school_class = _class_for(conn, year_id, line.get("Класс", ""))
        if not last or not first:
            errors.append(f"Строка {number}: не указаны фамилия или имя.")
        elif school_class is None:
            errors.append(f"Строка {number}: класс «{line.get('Класс', '')}» не распознан.")
        else:
            pid = _person_id("s", last, first, line.get("Отчество", ""), str(birth))
            rows += [
                school_class,
                Student(
                    id=pid,
                    last_name=last,
                    first_name=first,
                    patronymic=line.get("Отчество", ""),
                    birth_date=birth,
                ),
                Membership(student_id=pid, class_id=school_class.id, starts=starts),
            ]
    if errors:
        raise ImportFailed(errors)
    _refuse_foreign(conn, year_id, rows)
    with transaction(conn):
        directory_storage.upsert(conn, rows)
    return len(rows) // 3


def import_staff(conn: sqlite3.Connection, path: Path, year_id: str, school_id: str) -> int:
    """Add staff with their roles and teaching assignments; returns how many lines."""
    rows, errors = [], []
    for number, line in enumerate(_read(path, STAFF_COLUMNS), start=2):
        last, first = line.get("Фамилия", ""), line.get("Имя", "")
        roles = []
        for part in re.split(r"[,/]", line.get("Должность", "")):
            role = POSITIONS.get(part.strip().lower())
            if role is None and part.strip():
                errors.append(f"Строка {number}: должность «{part.strip()}» не распознана.")
            elif role is not None:
                roles.append(role)
        if not last or not first:
            errors.append(f"Строка {number}: не указаны фамилия или имя.")
            continue
        pid = _person_id("t", last, first, line.get("Отчество", ""))
        teaching = []
        for chunk in filter(
            None, (c.strip() for c in line.get("Предметы и классы", "").split(";"))
        ):
            subject_name, _, classes = chunk.partition(":")
            subject = Subject(id=slug(subject_name.strip()), name=subject_name.strip())
            rows.append(subject)
            for label in filter(None, (c.strip() for c in classes.split(","))):
                school_class = _class_for(conn, year_id, label)
                if school_class is None:
                    errors.append(f"Строка {number}: класс «{label}» не распознан.")
                    continue
                rows.append(school_class)
                teaching.append(
                    TeachingAssignment(
                        teacher_id=pid, class_id=school_class.id, subject_id=subject.id
                    )
                )
        if teaching and Role.TEACHER not in roles:
            roles.append(Role.TEACHER)
        rows.append(
            Staff(
                id=pid,
                last_name=last,
                first_name=first,
                patronymic=line.get("Отчество", ""),
                roles=tuple(roles or [Role.TEACHER]),
            )
        )
        rows += teaching
    if errors:
        raise ImportFailed(errors)
    _refuse_foreign(conn, year_id, rows)
    # Staff before the teaching rows that reference them.
    rows.sort(key=lambda r: isinstance(r, TeachingAssignment))
    with transaction(conn):
        directory_storage.upsert(conn, rows, school_id=school_id)
    return sum(isinstance(r, Staff) for r in rows)
