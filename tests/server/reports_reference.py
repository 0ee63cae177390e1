"""The reports as they were computed before issue 4's speed-up: every row read into Python.

Kept verbatim (the SQL of server/storage/py and the report functions of
server/reports/catalog.py at that time) as the reference the set-based reports must equal,
figure for figure (tests/server/test_report_equivalence.py). Not used by the server. The
marks are read from the journals' folded documents, not from SQL (issue 16): the consolidated
rows must keep what a mark means («4+», зач/незач), and only numbers count in averages.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from server.reports import dataset
from server.reports.attestation import ATTENDANCE_HEADER, ATTENDANCE_NOTES
from server.reports.catalog import (
    ABSENCE_NAMES,
    BEHIND_BELOW,
    LATE_ENTRY_DAYS,
    LEADER_FROM,
    Report,
    _old_value,
    _pct,
    _roster_order,
    _ru_date,
    forecast_mark,
    weighted_average,
)
from server.reports.dataset import Dataset, Filters, select_journals
from server.storage import consolidated
from server.storage import web as web_storage
from server.storage.consolidated import AttendanceRow, DelayRow, LessonRow, MarkRow
from server.storage.journals import load_document
from shared.hlc import stamp_date
from shared.journal import JournalDoc
from shared.model import Directory, LessonRecorded, MarkGiven, decode_event

# --------------------------------------------------------------------------- the old SQL


def _where(
    year_id: str,
    date_from: str | None,
    date_to: str | None,
    class_ids: list[str] | None,
    student_id: str | None = None,
    alias: str = "x",
) -> tuple[str, list[object]]:
    clauses, params = ["j.year_id = ?"], [year_id]
    if date_from:
        clauses.append("l.date >= ?")
        params.append(date_from)
    if date_to:
        clauses.append("l.date <= ?")
        params.append(date_to)
    if class_ids is not None:
        clauses.append(f"j.class_id IN ({','.join('?' * len(class_ids))})")
        params.extend(class_ids)
    if student_id is not None:
        clauses.append(f"{alias}.student_id = ?")
        params.append(student_id)
    return " AND ".join(clauses), params


def old_lessons(
    conn: sqlite3.Connection,
    *,
    year_id: str,
    date_from: str | None = None,
    date_to: str | None = None,
    class_ids: list[str] | None = None,
) -> list[LessonRow]:
    where, params = _where(year_id, date_from, date_to, class_ids)
    rows = conn.execute(
        "SELECT l.journal_id, j.class_id, j.subject_id, l.lesson_id, l.date, l.slot, l.topic, "
        "l.homework, l.work_kind, l.author, l.hlc FROM lessons l "
        f"JOIN journals j ON j.id = l.journal_id WHERE {where} ORDER BY l.date, l.slot",
        params,
    )
    return [LessonRow(*r) for r in rows.fetchall()]


def fold_marks(
    conn: sqlite3.Connection,
    journals: dict,
    *,
    year_id: str,
    date_from: str | None = None,
    date_to: str | None = None,
    class_ids: list[str] | None = None,
) -> list[MarkRow]:
    """The marks of the journals' documents as their fold has them (issue 16: the «+»/«−» and
    зач/незач of every mark), with their lesson's date and topic, in lesson order."""
    rows = []
    for journal_id, journal in journals.items():
        if journal.year_id != year_id or (
            class_ids is not None and journal.class_id not in class_ids
        ):
            continue
        if not conn.execute("SELECT 1 FROM journals WHERE id = ?", (journal_id,)).fetchone():
            continue
        state = JournalDoc(load_document(conn, journal_id)[0]).state()
        lessons = {
            key[1]: cell.value
            for key, cell in state.cells.items()
            if key[0] == "lesson" and isinstance(cell.value, LessonRecorded)
        }
        for key, cell in state.cells.items():
            m = cell.value
            if key[0] != "mark" or not isinstance(m, MarkGiven) or m.lesson_id not in lessons:
                continue
            lesson = lessons[m.lesson_id]
            day = lesson.date.isoformat()
            if (date_from and day < date_from) or (date_to and day > date_to):
                continue
            rows.append(
                (
                    (day, lesson.slot, m.slot),
                    MarkRow(
                        journal_id, journal.class_id, journal.subject_id, m.lesson_id, day,
                        lesson.topic, m.student_id, m.slot, m.value, m.work_kind.value,
                        m.weight, m.author, m.hlc, m.modifier, m.special.value,
                    ),
                )
            )  # fmt: skip
    rows.sort(key=lambda r: r[0])
    return [r[1] for r in rows]


def numeric(marks: list[MarkRow]) -> list[MarkRow]:
    """The marks averages and tallies count (shared.grades.counts): not зач/незач."""
    return [m for m in marks if not m.special and 1 <= m.value <= 5]


def old_attendance(
    conn: sqlite3.Connection,
    *,
    year_id: str,
    date_from: str | None = None,
    date_to: str | None = None,
    class_ids: list[str] | None = None,
    student_id: str | None = None,
    absences_only: bool = False,
) -> list[AttendanceRow]:
    """Attendance rows; `absences_only` skips «present» (most rows of a school year)."""
    where, params = _where(year_id, date_from, date_to, class_ids, student_id, "a")
    if absences_only:
        where += " AND a.code != 'present'"
    rows = conn.execute(
        "SELECT a.journal_id, j.class_id, j.subject_id, a.lesson_id, l.date, l.topic, "
        "a.student_id, a.code, a.author, a.hlc FROM attendance a "
        "JOIN lessons l ON l.journal_id = a.journal_id AND l.lesson_id = a.lesson_id "
        f"JOIN journals j ON j.id = a.journal_id WHERE {where} ORDER BY l.date, l.slot",
        params,
    )
    return [AttendanceRow(*r) for r in rows.fetchall()]


# an HLC stamp starts with 13 digits of wall milliseconds; its day in UTC+3, as days since 1970
_STAMP_DAY = "CAST((CAST(substr({0}.hlc, 1, 13) AS INTEGER) / 1000 + 10800) / 86400 AS INTEGER)"
_LESSON_DAY = "CAST(julianday(l.date) - 2440587.5 AS INTEGER)"


def entry_delays(
    conn: sqlite3.Connection,
    *,
    year_id: str,
    late_after: int,
    date_from: str | None = None,
    date_to: str | None = None,
    class_ids: list[str] | None = None,
) -> list[DelayRow]:
    """Per journal and author: how many days after the lesson its entries were made."""
    where, params = _where(year_id, date_from, date_to, class_ids)
    parts = []
    for table, alias in (("lessons", "l"), ("marks", "m"), ("attendance", "a")):
        join = (
            ""
            if table == "lessons"
            else f"JOIN lessons l ON l.journal_id = {alias}.journal_id "
            f"AND l.lesson_id = {alias}.lesson_id "
        )
        parts.append(
            f"SELECT {alias}.journal_id AS journal_id, {alias}.author AS author, "
            f"{_STAMP_DAY.format(alias)} - {_LESSON_DAY} AS delay FROM {table} {alias} {join}"
            f"JOIN journals j ON j.id = {alias}.journal_id WHERE {where}"
        )
    rows = conn.execute(
        "SELECT journal_id, author, count(*), sum(delay), max(delay), "
        f"sum(delay > {int(late_after)}) FROM ({' UNION ALL '.join(parts)}) "
        "GROUP BY journal_id, author",
        params * 3,
    )
    return [DelayRow(*r) for r in rows.fetchall()]


def attended_lessons(
    conn: sqlite3.Connection,
    *,
    year_id: str,
    date_from: str | None = None,
    date_to: str | None = None,
    class_ids: list[str] | None = None,
) -> set[tuple[str, str]]:
    """Lessons with at least one attendance entry (journal id, lesson id)."""
    where, params = _where(year_id, date_from, date_to, class_ids)
    rows = conn.execute(
        "SELECT DISTINCT a.journal_id, a.lesson_id FROM attendance a "
        "JOIN lessons l ON l.journal_id = a.journal_id AND l.lesson_id = a.lesson_id "
        f"JOIN journals j ON j.id = a.journal_id WHERE {where}",
        params,
    )
    return {(r[0], r[1]) for r in rows.fetchall()}


# --------------------------------------------------------------------------- the old loading


@dataclass
class RowDataset(Dataset):
    lessons: list[LessonRow] = field(default_factory=list)
    marks: list[MarkRow] = field(default_factory=list)
    attendance: list[AttendanceRow] = field(default_factory=list)


def load(
    conn: sqlite3.Connection,
    directory: Directory,
    filters: Filters,
    *,
    lessons: bool = True,
    marks: bool = True,
    attendance: bool = True,
    absences_only: bool = False,
) -> RowDataset:
    """Only the row kinds a report needs: a school year's attendance is most of the rows."""
    journals = select_journals(directory, filters)
    data = RowDataset(directory=directory, filters=filters, journals=journals)
    if not journals:
        return data
    data.span = span = {
        "year_id": directory.year.id,
        "date_from": filters.date_from.isoformat() if filters.date_from else None,
        "date_to": filters.date_to.isoformat() if filters.date_to else None,
        "class_ids": sorted({j.class_id for j in journals.values()}),
    }
    if lessons:
        data.lessons = [r for r in old_lessons(conn, **span) if r.journal_id in journals]
    if marks:
        data.marks = fold_marks(conn, journals, **span)
    if attendance:
        data.attendance = [
            r
            for r in old_attendance(conn, **span, absences_only=absences_only)
            if r.journal_id in journals
        ]
    return data


# --------------------------------------------------------------------------- the old reports


def _report(**fields) -> Report:
    return Report(**fields)


def results(data: Dataset) -> Report:
    """Успеваемость по ученикам и по классам за любой период."""
    per_student: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for m in numeric(data.marks):
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
    return _report(
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
    for m in numeric(data.marks):
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
    return _report(
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
    return _report(
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
            m.text if m.modifier or m.special else m.value,
        )
        for m in data.marks
        if (not m.special and m.value <= 2) or m.special == "fail"
    ]
    rows.sort(key=lambda r: (r[0], r[1], r[2][6:] + r[2][3:5] + r[2][:2]))
    return _report(
        name="unsatisfactory",
        title="Неудовлетворительные отметки и темы по ученикам",
        subtitle=data.filters.describe(data.directory),
        header=("Класс", "Ученик", "Дата", "Предмет", "Тема урока", "Отметка"),
        rows=tuple(rows),
    )


def completeness(conn: sqlite3.Connection, data: Dataset) -> Report:
    """Полнота и своевременность заполнения журнала по учителям."""
    attended = attended_lessons(conn, **data.span) if data.span else set()
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
    delays = entry_delays(conn, **data.span, late_after=LATE_ENTRY_DAYS) if data.span else []
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
    return _report(
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
    for m in numeric(data.marks):
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
    return _report(
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
    return _report(
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
    return _report(
        name="corrections",
        title="Журнал исправлений",
        subtitle=data.filters.describe(data.directory),
        header=("Дата", "Кто", "Журнал", "Было", "Стало", "Причина", "Отметка о контроле"),
        rows=tuple(rows),
        landscape=True,
    )


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


# --------------------------------------------------------------------------- attendance summary
# As issue 16 first computed it (server/reports/attestation.py): absences joined to their
# lessons and counted per pupil and day in Python, against the lessons per class and day.

MISSED = ("absent", "ill", "excused")


def attendance_summary(conn: sqlite3.Connection, data: Dataset) -> Report:
    """Сводка посещаемости по ученикам, from the attendance and lessons rows."""
    span = data.span
    journals = span.get("journal_ids", [])
    date_from, date_to = span.get("date_from"), span.get("date_to")
    per_day: dict[tuple[str, str], int] = {}
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    day: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    if journals:
        marks = ",".join("?" * len(journals))
        dates, params = "", []
        for op, value in ((">=", date_from), ("<=", date_to)):
            if value:
                dates += f" AND l.date {op} ?"
                params.append(value)
        per_day = {
            (c, d): n
            for c, d, n in conn.execute(
                "SELECT j.class_id, l.date, count(*) FROM lessons l JOIN journals j "
                f"ON j.id = l.journal_id WHERE l.journal_id IN ({marks}){dates} "
                "GROUP BY j.class_id, l.date",
                [*journals, *params],
            )
        }
        for class_id, student, date, code, lessons in conn.execute(
            "SELECT j.class_id, a.student_id, l.date, a.code, count(*) FROM attendance a "
            "JOIN lessons l ON l.journal_id = a.journal_id AND l.lesson_id = a.lesson_id "
            "JOIN journals j ON j.id = a.journal_id "
            f"WHERE a.code != 'present' AND a.journal_id IN ({marks}){dates} "
            "GROUP BY j.class_id, a.student_id, l.date, a.code",
            [*journals, *params],
        ):
            counts[(class_id, student)][code] += lessons
            day[(class_id, student, date)][code] += lessons
    for (class_id, student, date), codes in day.items():
        missed = sum(codes[c] for c in MISSED)
        if missed and missed >= per_day.get((class_id, date), 0):
            counts[(class_id, student)]["day"] += 1
            counts[(class_id, student)]["ill_day"] += codes["ill"] == missed
    order = lambda key: (data.class_key(key[0]), data.student_name(key[1]))  # noqa: E731
    rows = [
        (
            data.class_name(key[0]),
            data.student_name(key[1]),
            sum(counts[key][m] for m in MISSED),
            counts[key]["ill"],
            counts[key]["excused"],
            counts[key]["absent"],
            counts[key]["day"],
            counts[key]["ill_day"],
            counts[key]["late"],
        )
        for key in sorted(counts, key=order)
    ]
    return Report(
        name="attendance",
        title="Сводка посещаемости по ученикам",
        subtitle=data.filters.describe(data.directory),
        header=ATTENDANCE_HEADER,
        rows=tuple(rows),
        notes=ATTENDANCE_NOTES,
        landscape=True,
    )


NEEDS = {
    "results": {"lessons": False, "attendance": False},
    "control": {"attendance": False},
    "missed": {"lessons": False, "marks": False, "absences_only": True},
    "unsatisfactory": {"lessons": False, "attendance": False},
    "completeness": {"marks": False, "attendance": False},
    "leaders": {"lessons": False, "attendance": False},
    "forecast": {"lessons": False, "attendance": False},
    "corrections": {"marks": False, "attendance": False},
    "attendance": {"lessons": False, "marks": False, "attendance": False},
}


def build_reference(
    conn: sqlite3.Connection, directory: Directory, name: str, filters: Filters
) -> Report:
    """The report `name` as the code before the speed-up computed it."""
    if name == "attendance":
        return attendance_summary(conn, dataset.load(directory, filters))
    data = load(conn, directory, filters, **NEEDS[name])
    match name:
        case "results":
            return results(data)
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
        case _:
            return corrections(conn, data)
