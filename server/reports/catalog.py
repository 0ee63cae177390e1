"""The administration's reports (REQUIREMENTS.md «Reports the administration needs»).

Each report is a pure function of the consolidated rows a filter selects and returns a
`Report`: a title and one table, which the web shows and printing turns into PDF/XLSX/CSV.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable

import msgspec

from server.reports.dataset import Dataset, Filters, load
from server.reports.summary_sheet import summary_sheet
from server.storage import consolidated
from server.storage import web as web_storage
from server.storage.journals import quarantined
from shared.hlc import stamp_date
from shared.model import Directory, decode_event

LATE_ENTRY_DAYS = 3  # an entry made more than this many days after the lesson is «late»
LEADER_FROM = 4.5  # every subject's weighted average at least this: a leader
BEHIND_BELOW = 3.0  # any subject's weighted average below this: falling behind
ABSENCE_NAMES = {"absent": "н (без причины)", "ill": "б (болезнь, справка)", "excused": "у"}


class Report(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    title: str
    subtitle: str
    header: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    notes: tuple[str, ...] = ()
    landscape: bool = False


def weighted_average(pairs: list[tuple[int, int]]) -> float | None:
    weight = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / weight if weight else None


def forecast_mark(average: float) -> int:
    """The usual rounding of a period mark: 2,5 → 3, 3,5 → 4, 4,5 → 5 (half up)."""
    return min(5, max(2, int(average + 0.5)))


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _ru_date(iso: str) -> str:
    return dt.date.fromisoformat(iso).strftime("%d.%m.%Y")


def _roster_order(data: Dataset) -> Callable[[tuple[str, str]], tuple]:
    return lambda key: (data.class_key(key[0]), data.student_name(key[1]))


# --------------------------------------------------------------------------- the reports


def results(data: Dataset) -> Report:
    """Успеваемость по ученикам и по классам за любой период."""
    per_student: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for m in data.marks:
        per_student[(m.class_id, m.student_id)].append((m.value, m.weight))
    rows: list[tuple[object, ...]] = []

    def line(class_name: str, who: str, pairs: list[tuple[int, int]]) -> tuple[object, ...]:
        counts = Counter(v for v, _ in pairs)
        good = counts[5] + counts[4]
        passed = len(pairs) - counts[2] - counts[1]
        avg = weighted_average(pairs)
        return (
            class_name,
            who,
            len(pairs),
            counts[5],
            counts[4],
            counts[3],
            counts[2] + counts[1],
            round(avg, 2) if avg is not None else None,
            _pct(good, len(pairs)),
            _pct(passed, len(pairs)),
        )

    by_class: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for key in sorted(per_student, key=_roster_order(data)):
        rows.append(line(data.class_name(key[0]), data.student_name(key[1]), per_student[key]))
        by_class[key[0]].extend(per_student[key])
    for class_id in sorted(by_class, key=data.class_key):
        rows.append(line(data.class_name(class_id), "Итого по классу", by_class[class_id]))
    return Report(
        name="results",
        title="Успеваемость по ученикам и классам",
        subtitle=data.filters.describe(data.directory),
        header=(
            "Класс",
            "Ученик",
            "Отметок",
            "«5»",
            "«4»",
            "«3»",
            "«2»",
            "Средний балл",
            "Качество, %",
            "Успеваемость, %",
        ),
        rows=tuple(rows),
        notes=(
            "Средний балл взвешенный (вес отметки за контрольную работу — по журналу). "
            "Качество — доля отметок «4» и «5», успеваемость — доля отметок без «2».",
        ),
        landscape=True,
    )


def control_works(data: Dataset) -> Report:
    """Результаты контрольных работ (ВСОКО)."""
    lessons = [x for x in data.lessons if x.work_kind == "control"]
    marks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for m in data.marks:
        marks[(m.journal_id, m.lesson_id)].append(m.value)
    rows = []
    for x in lessons:
        values = marks.get((x.journal_id, x.lesson_id), [])
        counts = Counter(values)
        rows.append(
            (
                _ru_date(x.date),
                data.class_name(x.class_id),
                data.subject_name(x.subject_id),
                x.topic,
                len(values),
                counts[5],
                counts[4],
                counts[3],
                counts[2] + counts[1],
                round(sum(values) / len(values), 2) if values else None,
                _pct(counts[5] + counts[4], len(values)),
            )
        )
    return Report(
        name="control",
        title="Результаты контрольных работ",
        subtitle=data.filters.describe(data.directory),
        header=(
            "Дата",
            "Класс",
            "Предмет",
            "Тема",
            "Писали",
            "«5»",
            "«4»",
            "«3»",
            "«2»",
            "Средний балл",
            "Качество, %",
        ),
        rows=tuple(rows),
        landscape=True,
    )


def missed_lessons(data: Dataset) -> Report:
    """Пропущенные уроки с темами — для ликвидации пробелов."""
    rows = [
        (
            data.class_name(a.class_id),
            data.student_name(a.student_id),
            _ru_date(a.date),
            data.subject_name(a.subject_id),
            a.topic,
            ABSENCE_NAMES[a.code],
        )
        for a in data.attendance
        if a.code in ABSENCE_NAMES
    ]
    rows.sort(key=lambda r: (r[0], r[1], r[2][6:] + r[2][3:5] + r[2][:2]))
    return Report(
        name="missed",
        title="Пропущенные уроки и их темы по ученикам",
        subtitle=data.filters.describe(data.directory),
        header=("Класс", "Ученик", "Дата", "Предмет", "Тема урока", "Причина"),
        rows=tuple(rows),
    )


def unsatisfactory(data: Dataset) -> Report:
    """Неудовлетворительные отметки с темами уроков, по ученикам."""
    rows = [
        (
            data.class_name(m.class_id),
            data.student_name(m.student_id),
            _ru_date(m.date),
            data.subject_name(m.subject_id),
            m.topic,
            m.value,
        )
        for m in data.marks
        if m.value <= 2
    ]
    rows.sort(key=lambda r: (r[0], r[1], r[2][6:] + r[2][3:5] + r[2][:2]))
    return Report(
        name="unsatisfactory",
        title="Неудовлетворительные отметки и темы по ученикам",
        subtitle=data.filters.describe(data.directory),
        header=("Класс", "Ученик", "Дата", "Предмет", "Тема урока", "Отметка"),
        rows=tuple(rows),
    )


def completeness(conn: sqlite3.Connection, data: Dataset) -> Report:
    """Полнота и своевременность заполнения журнала по учителям."""
    attended = consolidated.attended_lessons(conn, **data.span) if data.span else set()
    stats: dict[str, dict] = defaultdict(
        lambda: {
            "lessons": 0,
            "no_topic": 0,
            "no_attendance": 0,
            "entries": 0,
            "days": 0,
            "max": None,
            "late": 0,
        }
    )
    for x in data.lessons:
        s = stats[x.author]
        s["lessons"] += 1
        s["no_topic"] += not x.topic.strip()
        s["no_attendance"] += (x.journal_id, x.lesson_id) not in attended
    delays = (
        consolidated.entry_delays(conn, **data.span, late_after=LATE_ENTRY_DAYS)
        if data.span
        else []
    )
    for d in delays:
        if d.journal_id not in data.journals:
            continue
        s = stats[d.author]
        s["entries"] += d.entries
        s["days"] += d.total_days
        s["late"] += d.late
        s["max"] = d.max_days if s["max"] is None else max(s["max"], d.max_days)
    rows = []
    for author in sorted(stats, key=data.staff_name):
        s = stats[author]
        rows.append(
            (
                data.staff_name(author),
                s["lessons"],
                s["no_topic"],
                s["no_attendance"],
                s["entries"],
                round(s["days"] / s["entries"], 2) if s["entries"] else None,
                s["max"],
                s["late"],
            )
        )
    return Report(
        name="completeness",
        title="Полнота и своевременность заполнения журнала",
        subtitle=data.filters.describe(data.directory),
        header=(
            "Учитель",
            "Уроков",
            "Без темы",
            "Без отметки посещаемости",
            "Записей",
            "Ср. задержка, дней",
            "Макс. задержка, дней",
            f"Записей позже {LATE_ENTRY_DAYS} дней",
        ),
        rows=tuple(rows),
        notes=(
            "Задержка — сколько дней прошло от даты урока до внесения записи "
            "(тема, отметка, посещаемость).",
        ),
        landscape=True,
    )


def _subject_averages(data: Dataset) -> dict[tuple[str, str], dict[str, float]]:
    pairs: dict[tuple[str, str], dict[str, list[tuple[int, int]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for m in data.marks:
        pairs[(m.class_id, m.student_id)][m.subject_id].append((m.value, m.weight))
    return {
        key: {s: weighted_average(p) for s, p in subjects.items()}  # type: ignore[misc]
        for key, subjects in pairs.items()
    }


def leaders_and_behind(data: Dataset) -> Report:
    """Лидеры и отстающие по взвешенным средним баллам за период."""
    rows = []
    averages = _subject_averages(data)
    for key in sorted(averages, key=_roster_order(data)):
        subjects = averages[key]
        weak = {s: a for s, a in subjects.items() if a < BEHIND_BELOW}
        if weak:
            group = "отстающий"
            detail = ", ".join(
                f"{data.subject_name(s)} {a:.2f}".replace(".", ",")
                for s, a in sorted(weak.items(), key=lambda i: data.subject_name(i[0]))
            )
        elif all(a >= LEADER_FROM for a in subjects.values()):
            group, detail = "лидер", ""
        else:
            continue
        overall = sum(subjects.values()) / len(subjects)
        rows.append(
            (data.class_name(key[0]), data.student_name(key[1]), group, round(overall, 2), detail)
        )
    return Report(
        name="leaders",
        title="Лидеры и отстающие",
        subtitle=data.filters.describe(data.directory),
        header=("Класс", "Ученик", "Группа", "Средний по предметам", "Предметы ниже 3,0"),
        rows=tuple(rows),
        notes=(
            f"Лидер — по всем предметам средний балл не ниже {LEADER_FROM:.1f}; "
            f"отстающий — хотя бы по одному ниже {BEHIND_BELOW:.1f}.".replace(".", ","),
        ),
    )


def forecast(data: Dataset) -> Report:
    """Прогноз отметок за период по текущим взвешенным средним — ученика и класса."""
    rows: list[tuple[object, ...]] = []
    per_class: dict[tuple[str, str], list[int]] = defaultdict(list)
    averages = _subject_averages(data)
    for key in sorted(averages, key=_roster_order(data)):
        for subject, avg in sorted(averages[key].items(), key=lambda i: data.subject_name(i[0])):
            mark = forecast_mark(avg)
            per_class[(key[0], subject)].append(mark)
            rows.append(
                (
                    data.class_name(key[0]),
                    data.student_name(key[1]),
                    data.subject_name(subject),
                    round(avg, 2),
                    mark,
                )
            )
    for (class_id, subject), marks in sorted(
        per_class.items(), key=lambda i: (data.class_key(i[0][0]), data.subject_name(i[0][1]))
    ):
        rows.append(
            (
                data.class_name(class_id),
                "Класс (средний прогноз)",
                data.subject_name(subject),
                None,
                round(sum(marks) / len(marks), 2),
            )
        )
    return Report(
        name="forecast",
        title="Прогноз отметок за период",
        subtitle=data.filters.describe(data.directory),
        header=("Класс", "Ученик", "Предмет", "Средний балл (взвешенный)", "Прогноз"),
        rows=tuple(rows),
        notes=("Прогноз — средний балл, округлённый по правилу 2,5 → 3; 3,5 → 4; 4,5 → 5.",),
    )


def corrections(conn: sqlite3.Connection, data: Dataset) -> Report:
    """Журнал исправлений: кто, когда, было → стало, почему; поздние исправления отмечены."""
    closed = {(c["class_id"], c["period_id"]): c["closed_at"] for c in web_storage.closures(conn)}
    periods = {p.id: p for p in data.directory.periods}
    rows = []
    for row in consolidated.corrections(conn, list(data.journals)):
        when = stamp_date(row.hlc)
        if data.filters.date_from and when < data.filters.date_from:
            continue
        if data.filters.date_to and when > data.filters.date_to:
            continue
        journal = data.journals[row.journal_id]
        old = json.loads(row.old_bodies)
        flags = []
        if any(stamp_date(decode_event(o).hlc) < when for o in old):
            flags.append("поздняя (в другой день)")
        if _in_closed_period(row.body, journal.class_id, closed, periods, data):
            flags.append("в закрытом периоде")
        rows.append(
            (
                when.strftime("%d.%m.%Y"),
                data.staff_name(row.author),
                f"{data.class_name(journal.class_id)}, {data.subject_name(journal.subject_id)}",
                "; ".join(_old_value(o, data) for o in old) or "—",
                "удалено" if row.kind == "retraction" else _old_value(row.body, data),
                row.reason,
                ", ".join(flags),
            )
        )
    return Report(
        name="corrections",
        title="Журнал исправлений",
        subtitle=data.filters.describe(data.directory),
        header=("Дата", "Кто", "Журнал", "Было", "Стало", "Причина", "Отметка о контроле"),
        rows=tuple(rows),
        landscape=True,
    )


def _old_value(body: str, data: Dataset) -> str:
    event = decode_event(body)
    value = getattr(event, "value", None)
    if value is not None:
        student = getattr(event, "student_id", "")
        return f"{value} — {data.student_name(student)}"
    code = getattr(event, "code", None)
    if code is not None:
        return f"{code} — {data.student_name(event.student_id)}"
    return getattr(event, "topic", "") or "—"


def _in_closed_period(body, class_id, closed, periods, data: Dataset) -> bool:
    if not any(c == class_id for c, _ in closed):
        return False
    event = decode_event(body)
    period_id = getattr(event, "period_id", None)
    if period_id is not None:
        return (class_id, period_id) in closed
    lesson_id = getattr(event, "lesson_id", None)
    day = next(
        (x.date for x in data.lessons if x.lesson_id == lesson_id and x.class_id == class_id), None
    )
    if day is None:
        return False
    return any(
        periods[p].starts.isoformat() <= day <= periods[p].ends.isoformat()
        for (c, p) in closed
        if c == class_id and p in periods
    )


def conflicts_and_quarantine(conn: sqlite3.Connection, data: Dataset) -> Report:
    """Открытые конфликты, отклонённые записи и обновления в карантине."""
    rows = []
    ids = list(data.journals)
    for row in consolidated.conflicts(conn, ids):
        journal = data.journals[row["journal_id"]]
        rows.append(
            (
                "конфликт",
                stamp_date(row["hlc"]).strftime("%d.%m.%Y"),
                data.staff_name(row["author"]),
                f"{data.class_name(journal.class_id)}, {data.subject_name(journal.subject_id)}",
                _old_value(row["body"], data),
                "Одновременные исправления: показано более позднее",
            )
        )
    for row in consolidated.refused_events(conn, ids):
        journal = data.journals[row["journal_id"]]
        rows.append(
            (
                "отклонена запись",
                stamp_date(row["hlc"]).strftime("%d.%m.%Y"),
                data.staff_name(row["author"]),
                f"{data.class_name(journal.class_id)}, {data.subject_name(journal.subject_id)}",
                _old_value(row["body"], data),
                row["reason"],
            )
        )
    own = web_storage.school_logins(conn, data.directory.school.id)
    school_journals = {j.id for j in data.directory.journals}
    for row in quarantined(conn):
        if row["journal_id"] and row["journal_id"] not in data.journals and data.journals:
            continue
        if row["journal_id"] and row["journal_id"] not in school_journals:
            continue  # another school's journal
        if not row["journal_id"] and row["login"] and row["login"] not in own:
            continue  # sent by someone of another school
        rows.append(
            (
                "карантин",
                dt.datetime.fromtimestamp(row["received_at"]).strftime("%d.%m.%Y"),
                row["login"] or "?",
                row["journal_id"] or "",
                f"{row['size'] or 0} байт",
                row["message_ru"],
            )
        )
    return Report(
        name="conflicts",
        title="Открытые конфликты и обновления в карантине",
        subtitle=data.filters.describe(data.directory),
        header=("Вид", "Дата", "Кто", "Журнал", "Запись", "Причина"),
        rows=tuple(rows),
        landscape=True,
    )


def summary(conn: sqlite3.Connection, data: Dataset) -> Report:
    """Сводная ведомость as a flat table (the PDF prints the grid per period)."""
    class_ids = (
        [data.filters.class_id] if data.filters.class_id else [c.id for c in data.directory.classes]
    )
    header: tuple[str, ...] = ()
    rows: list[tuple[object, ...]] = []
    for class_id in class_ids:
        sheet = summary_sheet(conn, class_id, directory=data.directory)
        head, lines = sheet.table()
        header = header or ("Класс", *head)
        width = len(header) - 1
        for line in lines:
            if data.filters.subject_id and line[2] != data.subject_name(data.filters.subject_id):
                continue
            rows.append((sheet.class_name, *line, *[None] * (width - len(line)))[: width + 1])
    return Report(
        name="summary",
        title="Сводная ведомость учёта успеваемости",
        subtitle=data.filters.describe(data.directory),
        header=header or ("Класс", "№", "Ученик", "Предмет"),
        rows=tuple(rows),
        landscape=True,
    )


# --------------------------------------------------------------------------- the catalogue

REPORTS: dict[str, str] = {
    "results": "Успеваемость по ученикам и классам",
    "summary": "Сводная ведомость",
    "control": "Результаты контрольных работ",
    "missed": "Пропущенные уроки с темами",
    "unsatisfactory": "Неудовлетворительные отметки с темами",
    "completeness": "Полнота и своевременность заполнения журнала",
    "leaders": "Лидеры и отстающие",
    "forecast": "Прогноз отметок за период",
    "corrections": "Журнал исправлений",
    "conflicts": "Конфликты и карантин",
}


def build(conn: sqlite3.Connection, directory: Directory, name: str, filters: Filters) -> Report:
    if name not in REPORTS:
        raise KeyError(name)
    needs = {
        "results": {"lessons": False, "attendance": False},
        "summary": {"lessons": False, "marks": False, "attendance": False},
        "control": {"attendance": False},
        "missed": {"lessons": False, "marks": False, "absences_only": True},
        "unsatisfactory": {"lessons": False, "attendance": False},
        "completeness": {"marks": False, "attendance": False},
        "leaders": {"lessons": False, "attendance": False},
        "forecast": {"lessons": False, "attendance": False},
        "corrections": {"marks": False, "attendance": False},
        "conflicts": {"lessons": False, "marks": False, "attendance": False},
    }[name]
    data = load(conn, directory, filters, **needs)
    match name:
        case "results":
            return results(data)
        case "summary":
            return summary(conn, data)
        case "control":
            return control_works(data)
        case "missed":
            return missed_lessons(data)
        case "unsatisfactory":
            return unsatisfactory(data)
        case "completeness":
            return completeness(conn, data)
        case "leaders":
            return leaders_and_behind(data)
        case "forecast":
            return forecast(data)
        case "corrections":
            return corrections(conn, data)
        case _:
            return conflicts_and_quarantine(conn, data)
