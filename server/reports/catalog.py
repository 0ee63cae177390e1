"""The administration's reports (REQUIREMENTS.md «Reports the administration needs»).

Each report is a pure function of the consolidated rows a filter selects and returns a
`Report`: a title and one table, which the web shows and printing turns into PDF/XLSX/CSV.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable

import msgspec

from server.reports import attestation
from server.reports.dataset import Dataset, Filters, load
from server.reports.summary_sheet import summary_sheet
from server.storage import consolidated
from server.storage import web as web_storage
from server.storage.journals import quarantined
from shared.grades import round_mark, weighted_average  # noqa: F401 (tests/server/reports_reference.py imports it from here)
from shared.groups import section_title
from shared.hlc import stamp_date
from shared.model import Directory, decode_event
from shared.scales import mark_text

LATE_ENTRY_DAYS = 3  # an entry made more than this many days after the lesson is «late»
LEADER_FROM = 4.5  # every subject's weighted average at least this: a leader
BEHIND_BELOW = 3.0  # any subject's weighted average below this: falling behind
MARK_COUNTS = ("«5»", "«4»", "«3»", "«2»")  # columns: how many marks of each value
SHARES = ("Качество, %", "Успеваемость, %")  # «4» and «5» among the marks; marks above «2»
ABSENCE_NAMES = {"absent": "н (без причины)", "ill": "б (болезнь, справка)", "excused": "у"}


class Report(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    title: str
    subtitle: str
    header: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    notes: tuple[str, ...] = ()
    landscape: bool = False


def forecast_mark(average: float) -> int:
    """The school's rounding of a period mark (shared.grades.round_mark: 2,5 → 3, 3,5 → 4,
    4,5 → 5, half up), never below «2» as a forecast."""
    return max(2, round_mark(average))


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@functools.lru_cache(maxsize=1024)
def _ru_date(iso: str) -> str:
    return dt.date.fromisoformat(iso).strftime("%d.%m.%Y")


def _roster_order(data: Dataset) -> Callable[[tuple[str, str]], tuple]:
    return lambda key: (data.class_key(key[0]), data.student_name(key[1]))


def _journal_name(data: Dataset, journal_id: str) -> str:
    journal = data.journals[journal_id]  # a group's journal: «2А, Английский язык, группа 1»
    return f"{data.class_name(journal.class_id)}, {section_title(data.directory, journal)}"


def _report(data: Dataset, name: str, title: str, header: tuple[str, ...], rows, **more) -> Report:
    """A report on the dataset's filters (its subtitle says which)."""
    return Report(
        name=name,
        title=title,
        subtitle=data.filters.describe(data.directory),
        header=header,
        rows=tuple(rows),
        **more,
    )


def _tallies(
    conn: sqlite3.Connection, data: Dataset, by: str, **more
) -> list[consolidated.MarkTally]:
    return consolidated.mark_tallies(conn, by, **data.span, **more) if data.span else []


def _average(t: consolidated.MarkTally) -> float | None:
    """The weighted average of a tally: Σ value × weight / Σ weight (see weighted_average)."""
    return t.weighted / t.weight if t.weight else None


def _tally_sum(tallies: list[consolidated.MarkTally]) -> consolidated.MarkTally:
    fields = consolidated.MarkTally.__struct_fields__[1:-1]
    return consolidated.MarkTally(
        (),
        *(sum(getattr(t, f) for t in tallies) for f in fields),
        "",
    )


# --------------------------------------------------------------------------- the reports


def results(conn: sqlite3.Connection, data: Dataset) -> Report:
    """Успеваемость по ученикам и по классам за любой период."""
    per_student = _tallies(conn, data, "student")
    order = _roster_order(data)
    per_student.sort(key=lambda t: (order(t.key), t.key[1]))
    rows: list[tuple[object, ...]] = []

    def line(class_name: str, who: str, t: consolidated.MarkTally) -> tuple[object, ...]:
        bad = t.twos + t.ones
        avg = _average(t)
        return (
            class_name,
            who,
            t.count,
            t.fives,
            t.fours,
            t.threes,
            bad,
            round(avg, 2) if avg is not None else None,
            _pct(t.fives + t.fours, t.count),
            _pct(t.count - bad, t.count),
        )

    by_class: dict[str, list[consolidated.MarkTally]] = defaultdict(list)
    for t in per_student:
        rows.append(line(data.class_name(t.key[0]), data.student_name(t.key[1]), t))
        by_class[t.key[0]].append(t)
    for class_id in sorted(by_class, key=data.class_key):
        total = _tally_sum(by_class[class_id])
        rows.append(line(data.class_name(class_id), "Итого по классу", total))
    return _report(
        data,
        "results",
        "Успеваемость по ученикам и классам",
        ("Класс", "Ученик", "Отметок", *MARK_COUNTS, "Средний балл", *SHARES),
        rows,
        notes=(
            "Средний балл взвешенный (вес отметки за контрольную работу — по журналу). "
            "Качество — доля отметок «4» и «5», успеваемость — доля отметок без «2».",
        ),
        landscape=True,
    )


def control_works(conn: sqlite3.Connection, data: Dataset) -> Report:
    """Результаты контрольных работ (ВСОКО)."""
    lessons = consolidated.lessons(conn, **data.span, work_kind="control") if data.span else []
    control = _tallies(conn, data, "lesson", work_kind="control") if lessons else []
    tallies = {t.key: t for t in control}
    rows = []
    for x in lessons:
        t = tallies.get((x.journal_id, x.lesson_id))
        n = t.count if t else 0
        rows.append(
            (
                _ru_date(x.date),
                data.class_name(x.class_id),
                data.subject_name(x.subject_id),
                x.topic,
                n,
                t.fives if t else 0,
                t.fours if t else 0,
                t.threes if t else 0,
                t.twos + t.ones if t else 0,
                round(t.total / n, 2) if t else None,
                _pct(t.fives + t.fours, n) if t else None,
            )
        )
    return _report(
        data,
        "control",
        "Результаты контрольных работ",
        ("Дата", "Класс", "Предмет", "Тема", "Писали", *MARK_COUNTS, "Средний балл", SHARES[0]),
        rows,
        landscape=True,
    )


def _per_pupil(data: Dataset, name: str, title: str, last: str, entries, value) -> Report:
    """One line per entry (an absence, a mark) with its lesson's date, subject and topic,
    by class, pupil and date; `value(entry)` fills the last column."""
    rows = [
        (
            data.class_name(e.class_id),
            data.student_name(e.student_id),
            _ru_date(e.date),
            data.subject_name(e.subject_id),
            e.topic,
            value(e),
        )
        for e in entries
    ]
    rows.sort(key=lambda r: (r[0], r[1], r[2][6:] + r[2][3:5] + r[2][:2]))
    return _report(
        data, name, title, ("Класс", "Ученик", "Дата", "Предмет", "Тема урока", last), rows
    )


def missed_lessons(conn: sqlite3.Connection, data: Dataset) -> Report:
    """Пропущенные уроки с темами — для ликвидации пробелов."""
    absences = (
        consolidated.attendance(conn, **data.span, codes=tuple(ABSENCE_NAMES)) if data.span else []
    )
    return _per_pupil(
        data,
        "missed",
        "Пропущенные уроки и их темы по ученикам",
        "Причина",
        absences,
        lambda a: ABSENCE_NAMES[a.code],
    )


def unsatisfactory(conn: sqlite3.Connection, data: Dataset) -> Report:
    """Неудовлетворительные отметки с темами уроков, по ученикам."""
    marks = consolidated.marks(conn, **data.span, failing=True) if data.span else []
    return _per_pupil(
        data,
        "unsatisfactory",
        "Неудовлетворительные отметки и темы по ученикам",
        "Отметка",
        marks,
        shown_mark,
    )


def shown_mark(m: consolidated.MarkRow) -> int | str:
    """A mark as a report prints it: a plain number stays a number (spreadsheets sum it);
    «2−» and «незач» in words."""
    return m.text if m.modifier or m.special else m.value


def completeness(conn: sqlite3.Connection, data: Dataset) -> Report:
    """Полнота и своевременность заполнения журнала по учителям."""
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
    facts = consolidated.lesson_facts(conn, **data.span) if data.span else []
    for f in facts:
        s = stats[f.author]
        s["lessons"] += f.lessons
        s["no_topic"] += f.blank_topic
        s["no_attendance"] += f.not_attended
    delays = (
        consolidated.entry_delays(conn, **data.span, late_after=LATE_ENTRY_DAYS)
        if data.span
        else []
    )
    for d in delays:
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
    return _report(
        data,
        "completeness",
        "Полнота и своевременность заполнения журнала",
        (
            "Учитель",
            "Уроков",
            "Без темы",
            "Без отметки посещаемости",
            "Записей",
            "Ср. задержка, дней",
            "Макс. задержка, дней",
            f"Записей позже {LATE_ENTRY_DAYS} дней",
        ),
        rows,
        notes=(
            "Задержка — сколько дней прошло от даты урока до внесения записи "
            "(тема, отметка, посещаемость).",
        ),
        landscape=True,
    )


def _subject_averages(
    conn: sqlite3.Connection, data: Dataset
) -> dict[tuple[str, str], dict[str, float]]:
    """Per pupil: the weighted average of each subject, subjects in the order of their first
    mark (the order sums over subjects add up in)."""
    tallies = _tallies(conn, data, "subject")
    tallies.sort(key=lambda t: t.first)
    averages: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for t in tallies:
        averages[(t.key[0], t.key[1])][t.key[2]] = _average(t)  # type: ignore[assignment]
    return averages


def leaders_and_behind(conn: sqlite3.Connection, data: Dataset) -> Report:
    """Лидеры и отстающие по взвешенным средним баллам за период."""
    rows = []
    averages = _subject_averages(conn, data)
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
    return _report(
        data,
        "leaders",
        "Лидеры и отстающие",
        ("Класс", "Ученик", "Группа", "Средний по предметам", "Предметы ниже 3,0"),
        rows,
        notes=(
            f"Лидер — по всем предметам средний балл не ниже {LEADER_FROM:.1f}; "
            f"отстающий — хотя бы по одному ниже {BEHIND_BELOW:.1f}.".replace(".", ","),
        ),
    )


def forecast(conn: sqlite3.Connection, data: Dataset) -> Report:
    """Прогноз отметок за период по текущим взвешенным средним — ученика и класса."""
    rows: list[tuple[object, ...]] = []
    per_class: dict[tuple[str, str], list[int]] = defaultdict(list)
    averages = _subject_averages(conn, data)
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
    return _report(
        data,
        "forecast",
        "Прогноз отметок за период",
        ("Класс", "Ученик", "Предмет", "Средний балл (взвешенный)", "Прогноз"),
        rows,
        notes=("Прогноз — средний балл, округлённый по правилу 2,5 → 3; 3,5 → 4; 4,5 → 5.",),
    )


def corrections(conn: sqlite3.Connection, data: Dataset) -> Report:
    """Журнал исправлений: кто, когда, было → стало, почему; поздние исправления отмечены."""
    closed = {(c["class_id"], c["period_id"]): c["closed_at"] for c in web_storage.closures(conn)}
    periods = {p.id: p for p in data.directory.periods}
    rows = []
    for row in consolidated.corrections(conn, data.span.get("journal_ids", [])):
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
        if _in_closed_period(conn, row.body, journal.class_id, closed, periods, data):
            flags.append("в закрытом периоде")
        rows.append(
            (
                when.strftime("%d.%m.%Y"),
                data.staff_name(row.author),
                _journal_name(data, row.journal_id),
                "; ".join(_old_value(o, data) for o in old) or "—",
                "удалено" if row.kind == "retraction" else _old_value(row.body, data),
                row.reason,
                ", ".join(flags),
            )
        )
    return _report(
        data,
        "corrections",
        "Журнал исправлений",
        ("Дата", "Кто", "Журнал", "Было", "Стало", "Причина", "Отметка о контроле"),
        rows,
        landscape=True,
    )


ATTENDANCE_WORDS = {
    "present": "присутствовал",
    "absent": "н (отсутствовал)",
    "ill": "б (болел, справка)",
    "excused": "у (уважительная причина)",
    "late": "о (опоздал)",
}


def _old_value(body: str, data: Dataset) -> str:
    """An entry in words, as the correction log shows it: never a code such as «present»."""
    event = decode_event(body)
    value = getattr(event, "value", None)
    if value is not None:
        student = getattr(event, "student_id", "")
        shown = mark_text(value, getattr(event, "modifier", ""), event.special)
        return f"{shown} — {data.student_name(student)}"
    code = getattr(event, "code", None)
    if code is not None:
        return f"{ATTENDANCE_WORDS[code]} — {data.student_name(event.student_id)}"
    return getattr(event, "topic", "") or "—"


def _in_closed_period(conn, body, class_id, closed, periods, data: Dataset) -> bool:
    if not any(c == class_id for c, _ in closed):
        return False
    event = decode_event(body)
    period_id = getattr(event, "period_id", None)
    if period_id is not None:
        return (class_id, period_id) in closed
    lesson_id = getattr(event, "lesson_id", None)
    class_journals = [j for j in data.span["journal_ids"] if data.journals[j].class_id == class_id]
    day = consolidated.first_lesson_date(
        conn, lesson_id, **(data.span | {"journal_ids": class_journals})
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
    ids = list(data.journals)
    entries = [
        (row, "конфликт", "Одновременные исправления: показано более позднее")
        for row in consolidated.conflicts(conn, ids)
    ] + [(row, "отклонена запись", row["reason"]) for row in consolidated.refused_events(conn, ids)]
    rows = [
        (
            kind,
            stamp_date(row["hlc"]).strftime("%d.%m.%Y"),
            data.staff_name(row["author"]),
            _journal_name(data, row["journal_id"]),
            _old_value(row["body"], data),
            reason,
        )
        for row, kind, reason in entries
    ]
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
    return _report(
        data,
        "conflicts",
        "Открытые конфликты и обновления в карантине",
        ("Вид", "Дата", "Кто", "Журнал", "Запись", "Причина"),
        rows,
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
    return _report(
        data,
        "summary",
        "Сводная ведомость учёта успеваемости",
        header or ("Класс", "№", "Ученик", "Предмет"),
        rows,
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
    "attestation": "Итоги успеваемости по ученикам (отчёт в район)",
    "attendance": "Сводка посещаемости по ученикам",
}


BUILDERS: dict[str, Callable[[sqlite3.Connection, Dataset], Report]] = {
    "results": results,
    "summary": summary,
    "control": control_works,
    "missed": missed_lessons,
    "unsatisfactory": unsatisfactory,
    "completeness": completeness,
    "leaders": leaders_and_behind,
    "forecast": forecast,
    "corrections": corrections,
    "conflicts": conflicts_and_quarantine,
    "attestation": attestation.pupil_results,
    "attendance": attestation.attendance_summary,
}


def build(conn: sqlite3.Connection, directory: Directory, name: str, filters: Filters) -> Report:
    if name not in REPORTS:
        raise KeyError(name)
    return BUILDERS[name](conn, load(directory, filters))
