"""The lists a school brings, their Russian columns, and the template of each: the header and
one example line, as CSV (UTF-8 with BOM, «;», what Excel opens by a double click) and XLSX."""

from __future__ import annotations

import csv
import io
from enum import StrEnum

import msgspec
import openpyxl


class ListKind(StrEnum):
    PUPILS = "pupils"
    PARENTS = "parents"
    STAFF = "employees"
    CLASS_TEACHERS = "class-teachers"
    LOAD = "load"


# the order a school brings its lists in: each needs the ones before it
LOAD_ORDER = (
    ListKind.PUPILS,
    ListKind.STAFF,
    ListKind.PARENTS,
    ListKind.CLASS_TEACHERS,
    ListKind.LOAD,
)


class ListSpec(msgspec.Struct, frozen=True, kw_only=True):
    kind: ListKind
    title: str  # Russian, for the page and the file name
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    example: tuple[str, ...]  # one line, in the order of required + optional
    note: str = ""  # what the file means, in Russian, for the page

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)


SPECS: dict[ListKind, ListSpec] = {
    spec.kind: spec
    for spec in (
        ListSpec(
            kind=ListKind.PUPILS,
            title="Ученики",
            required=("Фамилия", "Имя", "Дата рождения", "Класс"),
            optional=("Отчество", "СНИЛС", "Группы"),
            example=(
                "Иванов",
                "Пётр",
                "14.03.2015",
                "5А",
                "Сергеевич",
                "112-233-445 95",
                "Английский язык: 1; Технология: мальчики",
            ),
            note=(
                "Весь список названных в файле классов: ученика этих классов, которого нет "
                "в файле, покажем как выбывающего. Группы — для предметов, которые класс "
                "изучает по группам: «Предмет: группа» через «;». Если столбца «Группы» "
                "нет, группы учеников не меняются."
            ),
        ),
        ListSpec(
            kind=ListKind.PARENTS,
            title="Родители",
            required=(
                "Фамилия",
                "Имя",
                "Фамилия ребёнка",
                "Имя ребёнка",
                "Дата рождения ребёнка",
            ),
            optional=("Отчество", "Дата рождения", "СНИЛС", "Отчество ребёнка"),
            example=(
                "Иванова",
                "Мария",
                "Иванов",
                "Пётр",
                "14.03.2015",
                "Петровна",
                "",
                "",
                "Сергеевич",
            ),
            note=(
                "Одна строка — один родитель и один ребёнок: у родителя двоих детей две строки. "
                "Для названных в файле родителей файл — полный список их детей."
            ),
        ),
        ListSpec(
            kind=ListKind.STAFF,
            title="Сотрудники",
            required=("Фамилия", "Имя", "Должность"),
            optional=("Отчество", "Дата рождения", "СНИЛС"),
            example=("Лебедева", "Ольга", "учитель", "Ивановна", "02.11.1979", ""),
            note=(
                "Должности: учитель, директор, заместитель директора по УВР, документовед, "
                "системный администратор (несколько — через запятую)."
            ),
        ),
        ListSpec(
            kind=ListKind.CLASS_TEACHERS,
            title="Классные руководители",
            required=("Класс", "Классный руководитель"),
            example=("5А", "Лебедева Ольга Ивановна"),
            note="Учитель — как в списке сотрудников: фамилия, имя, отчество.",
        ),
        ListSpec(
            kind=ListKind.LOAD,
            title="Учебная нагрузка",
            required=("Учитель", "Класс", "Предмет"),
            optional=("Группа", "Часов в неделю"),
            example=("Лебедева Ольга Ивановна", "5А", "Английский язык", "1", "3"),
            note=(
                "Группа — для предметов, которые ведут по группам (1 или 2); пусто — весь класс. "
                "Класс-комплект (один урок для нескольких классов) — классы через «+»: «2А+4А». "
                "Для названных в файле классов файл — полная нагрузка."
            ),
        ),
    )
}


def template_csv(kind: ListKind) -> bytes:
    spec = SPECS[kind]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(spec.columns)
    writer.writerow(spec.example)
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(kind: ListKind) -> bytes:
    spec = SPECS[kind]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = spec.title[:31]
    sheet.append(list(spec.columns))
    sheet.append(list(spec.example))
    for column in sheet.columns:  # dates and СНИЛС stay text: Excel would reformat them
        for cell in column:
            cell.number_format = "@"
        sheet.column_dimensions[column[0].column_letter].width = max(
            14, len(str(column[0].value)) + 4
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
