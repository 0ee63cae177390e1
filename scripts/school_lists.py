"""The lists a school of any size brings (pupils, parents, staff, class teachers, load), made up
deterministically, as the rows of the import templates: for tests, the browser test and the
import benchmark. `write_lists(folder, lists, xlsx={...})` saves them as Excel would."""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path

import openpyxl

from server.lists.specs import SPECS, ListKind

SURNAMES = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
    "Григорьев",
    "Романов",
    "Воробьёв",
]
MALE = [
    "Александр",
    "Дмитрий",
    "Максим",
    "Сергей",
    "Андрей",
    "Алексей",
    "Артём",
    "Илья",
    "Кирилл",
    "Михаил",
    "Никита",
    "Егор",
]
FEMALE = [
    "Анна",
    "Мария",
    "Елена",
    "Дарья",
    "Алина",
    "Ирина",
    "Екатерина",
    "Полина",
    "Ольга",
    "Татьяна",
    "Наталья",
    "Юлия",
]
SUBJECTS = (
    ("Русский язык", 4),
    ("Литература", 3),
    ("Математика", 5),
    ("Окружающий мир", 2),
    ("История", 2),
    ("Биология", 2),
    ("Физика", 2),
    ("Физическая культура", 2),
)
ENGLISH = "Английский язык"

Rows = list[tuple[str, ...]]


def snils(rng: random.Random) -> str:
    """A СНИЛС with a right check number, written as people write it."""
    body = f"{rng.randrange(2_000_000, 999_999_999):09d}"
    total = sum(int(d) * (9 - i) for i, d in enumerate(body))
    check = total if total < 100 else 0 if total in (100, 101) else total % 101 % 100
    return f"{body[:3]}-{body[3:6]}-{body[6:]} {check:02d}"


def _name(rng: random.Random, female: bool) -> tuple[str, str, str]:
    last = rng.choice(SURNAMES) + ("а" if female else "")
    first = rng.choice(FEMALE if female else MALE)
    father = rng.choice(MALE)
    ending = "овна" if female else "ович"
    patronymic = (
        (father[:-1] + "евна" if female else father[:-1] + "евич")
        if father.endswith("й")
        else father + ending
    )
    return last, first, patronymic


def school_lists(
    pupils: int, *, year: int = 2026, seed: int = 15, groups: bool = False
) -> dict[ListKind, Rows]:
    """Rows (without the header) of every list for a school of `pupils` pupils: about 1.6
    parents a pupil (some with children in two classes), a member of staff per 12.5 pupils,
    English in two groups from grade 2, a class teacher per class. With `groups`, the pupils'
    list says who is in which English group (column «Группы», alternately 1 and 2)."""
    rng = random.Random(seed)
    per_class = 25
    classes = []
    for index in range(math.ceil(pupils / per_class)):
        grade, letter = index % 11 + 1, "АБВГДЕЖ"[index // 11]
        classes.append(f"{grade}{letter}")
    pupil_rows: Rows = []
    seen = set()
    for index in range(pupils):
        label = classes[index % len(classes)]
        grade = int(label[:-1])
        while True:
            last, first, patronymic = _name(rng, rng.random() < 0.5)
            birth = dt.date(year - 6 - grade, 1, 1) + dt.timedelta(days=rng.randrange(365))
            if (last, first, patronymic, birth) not in seen:
                seen.add((last, first, patronymic, birth))
                break
        code = snils(rng) if rng.random() < 0.7 else ""
        row = (last, first, birth.strftime("%d.%m.%Y"), label, patronymic, code)
        if groups:
            group = f"{ENGLISH}: {index // len(classes) % 2 + 1}" if grade >= 2 else ""
            row = (*row, group)
        pupil_rows.append(row)
    parent_rows: Rows = []
    families = 0
    index = 0
    while index < len(pupil_rows):
        kids = pupil_rows[index : index + (2 if rng.random() < 0.25 else 1)]
        index += len(kids)
        families += 1
        surname = kids[0][0].removesuffix("а")
        adults = [(surname + "а", rng.choice(FEMALE), "female")]
        if rng.random() < 0.6:
            adults.append((surname, rng.choice(MALE), "male"))
        for a_last, a_first, sex in adults:
            a_patronymic = _name(rng, sex == "female")[2]
            code = snils(rng) if rng.random() < 0.5 else ""
            for kid in kids:
                parent_rows.append(
                    (a_last, a_first, kid[0], kid[1], kid[2], a_patronymic, "", code, kid[4])
                )
    staff_rows: Rows = [("Рябова", "Наталья", "директор", "Сергеевна", "12.04.1970", "")]
    staff_rows.append(("Орлова", "Вера", "заместитель директора по УВР", "Ивановна", "", ""))
    taken = {("Рябова", "Наталья", "Сергеевна"), ("Орлова", "Вера", "Ивановна")}
    while len(staff_rows) < max(4, round(pupils / 12.5)):
        last, first, patronymic = _name(rng, rng.random() < 0.8)
        if (last, first, patronymic) in taken:
            continue
        taken.add((last, first, patronymic))
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(365 * 35))
        staff_rows.append((last, first, "учитель", patronymic, birth.strftime("%d.%m.%Y"), ""))
    teachers = [" ".join((r[0], r[1], r[3])) for r in staff_rows[2:]]
    class_teacher_rows: Rows = [
        (label, teachers[i % len(teachers)]) for i, label in enumerate(classes)
    ]
    load_rows: Rows = []
    turn = 0
    for label in classes:
        for subject, hours in SUBJECTS:
            load_rows.append((teachers[turn % len(teachers)], label, subject, "", str(hours)))
            turn += 1
        if int(label[:-1]) >= 2:
            for group in ("1", "2"):
                load_rows.append((teachers[turn % len(teachers)], label, ENGLISH, group, "3"))
                turn += 1
    return {
        ListKind.PUPILS: pupil_rows,
        ListKind.PARENTS: parent_rows,
        ListKind.STAFF: staff_rows,
        ListKind.CLASS_TEACHERS: class_teacher_rows,
        ListKind.LOAD: load_rows,
    }


def _columns(kind: ListKind, rows: Rows) -> tuple[str, ...]:
    """The spec's columns, as many as the rows fill (an optional column a school does not
    keep is not in its file at all)."""
    return SPECS[kind].columns[: max((len(r) for r in rows), default=len(SPECS[kind].columns))]


def csv_bytes(kind: ListKind, rows: Rows, *, encoding: str = "utf-8-sig") -> bytes:
    lines = [";".join(_columns(kind, rows))]
    lines += [";".join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(kind: ListKind, rows: Rows) -> bytes:
    """As Excel saves it: dates typed as dates, everything else as text."""
    import io

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(_columns(kind, rows)))
    for row in rows:
        cells: list[object] = []
        for column, value in zip(SPECS[kind].columns, row, strict=False):
            if column.startswith("Дата рождения") and value:
                cells.append(dt.datetime.strptime(value, "%d.%m.%Y"))
            else:
                cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_lists(
    folder: Path, lists: dict[ListKind, Rows], *, xlsx: frozenset[ListKind] = frozenset()
) -> dict[ListKind, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind, rows in lists.items():
        if kind in xlsx:
            path = folder / f"{kind.value}.xlsx"
            path.write_bytes(xlsx_bytes(kind, rows))
        else:
            path = folder / f"{kind.value}.csv"
            path.write_bytes(csv_bytes(kind, rows))
        paths[kind] = path
    return paths


__all__ = ["csv_bytes", "school_lists", "snils", "write_lists", "xlsx_bytes"]
