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

from server.storage import directory as directory_storage
from server.storage.db import transaction
from shared.model import (
    Membership,
    Role,
    SchoolClass,
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

_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)


def slug(text: str) -> str:
    out = "".join(_TRANSLIT.get(ch, ch) for ch in text.lower())
    return re.sub(r"[^a-z0-9]+", "-", out).strip("-") or "x"


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


def _class_for(conn: sqlite3.Connection, year_id: str, label: str) -> SchoolClass | None:
    match = re.fullmatch(r"(\d{1,2})\s*-?\s*([А-ЯЁа-яё]?)", label)
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
    # Staff before the teaching rows that reference them.
    rows.sort(key=lambda r: isinstance(r, TeachingAssignment))
    with transaction(conn):
        directory_storage.upsert(conn, rows, school_id=school_id)
    return sum(isinstance(r, Staff) for r in rows)
