"""Report figures on the fixture school against values counted by hand (tests/reports_school.py).

Filters are the first quarter (01.09–24.10.2026) unless a test says otherwise."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from server.printing import table_pdf
from server.reports.catalog import REPORTS, build, forecast_mark
from server.reports.dataset import Filters
from server.storage import directory as directory_storage
from tests.factories import CLASS_5, CLASS_6

Q1 = Filters(date_from=dt.date(2026, 9, 1), date_to=dt.date(2026, 10, 24))


def report(conn, name, **filters):
    base = {"date_from": Q1.date_from, "date_to": Q1.date_to} | filters
    return build(conn, directory_storage.load_full(conn), name, Filters(**base))


def by_student(rep, column="Ученик"):
    index = rep.header.index(column)
    return {row[index]: row for row in rep.rows}


def test_results_by_student_and_class(school_db):
    rep = report(school_db, "results", class_id=CLASS_5)
    rows = by_student(rep)
    # Алексеев: math 5, 4, 5 (control, weight 2); russian 3, 2 -> (5+4+10+3+2)/6 = 4.00
    assert rows["Алексеев Артём"][2:] == (5, 2, 1, 1, 1, 4.0, 60.0, 80.0)
    # Борисова: math 4, 3, 3 (w2); russian 4 (corrected from 5) -> (4+3+6+4)/5 = 3.40
    assert rows["Борисова Вера"][2:] == (4, 0, 2, 2, 0, 3.4, 50.0, 100.0)
    # Васильев: math 2, 2 (w2) -> 2.00
    assert rows["Васильев Глеб"][2:] == (2, 0, 0, 0, 2, 2.0, 0.0, 0.0)
    # Григорьева: math 4 (w2), 5; russian 4 -> (8+5+4)/4 = 4.25
    assert rows["Григорьева Дарья"][2:] == (3, 1, 2, 0, 0, 4.25, 100.0, 100.0)
    total = rows["Итого по классу"]
    # 14 marks: 5s 3, 4s 5, 3s 3, 2s 3; weighted (24 + 17 + 6 + 17) / (6 + 5 + 3 + 4) = 64 / 18
    assert total[2:] == (14, 3, 5, 3, 3, round(64 / 18, 2), 57.1, 78.6)


def test_results_for_one_subject_and_a_date_range(school_db):
    rep = report(
        school_db,
        "results",
        subject_id="math",
        date_from=dt.date(2026, 9, 10),
        date_to=dt.date(2026, 9, 20),
    )
    rows = by_student(rep)
    # only L2 (14.09): Алексеев 4, Борисова 3, Васильев 2; class 6 had no lesson then
    assert {k: v[2] for k, v in rows.items()} == {
        "Алексеев Артём": 1,
        "Борисова Вера": 1,
        "Васильев Глеб": 1,
        "Итого по классу": 3,
    }


def test_control_work_results(school_db):
    rep = report(school_db, "control")
    assert rep.rows == (
        ("21.09.2026", "5", "Математика", "Контрольная работа № 1", 4, 1, 1, 1, 1, 3.5, 50.0),
    )


def test_missed_lessons_with_topics(school_db):
    rep = report(school_db, "missed", class_id=CLASS_5)
    assert [(r[1], r[2], r[3], r[4], r[5][0]) for r in rep.rows] == [
        ("Борисова Вера", "15.09.2026", "Русский язык", "Орфография", "н"),
        ("Васильев Глеб", "07.09.2026", "Математика", "Натуральные числа", "н"),
        ("Васильев Глеб", "08.09.2026", "Русский язык", "Фонетика", "н"),
        ("Григорьева Дарья", "14.09.2026", "Математика", "Сложение", "б"),
    ]


def test_unsatisfactory_marks_with_topics(school_db):
    rep = report(school_db, "unsatisfactory")
    assert [(r[1], r[2], r[4], r[5]) for r in rep.rows] == [
        ("Алексеев Артём", "15.09.2026", "Орфография", 2),
        ("Васильев Глеб", "14.09.2026", "Сложение", 2),
        ("Васильев Глеб", "21.09.2026", "Контрольная работа № 1", 2),
    ]


def test_journal_completeness_and_timeliness_per_teacher(school_db):
    rows = by_student(report(school_db, "completeness"), "Учитель")
    # Петрова (math 5 and 6): L1-L4, M1; L4 has no topic; L3, L4, M1 have no attendance;
    # 19 entries, L2's 5 made 2 days late and L4's 2 made 5 days late: 20 / 19 days
    assert rows["Петрова А.С."][1:] == (5, 1, 3, 19, round(20 / 19, 2), 5, 2)
    # Соколов (russian 5): 8 entries, one correction 2 days after R1
    assert rows["Соколов И.П."][1:] == (2, 0, 0, 8, 0.25, 2, 0)


def test_completeness_for_one_teacher(school_db):
    rep = report(school_db, "completeness", teacher_id="t-rus")
    assert [r[0] for r in rep.rows] == ["Соколов И.П."]


def test_leaders_and_falling_behind(school_db):
    rep = report(school_db, "leaders")
    assert [(r[1], r[2], r[4]) for r in rep.rows] == [
        ("Алексеев Артём", "отстающий", "Русский язык 2,50"),
        ("Васильев Глеб", "отстающий", "Математика 2,00"),
        ("Дмитриев Егор", "лидер", ""),
    ]


def test_forecast_of_period_marks_for_pupils_and_the_class(school_db):
    rep = report(school_db, "forecast", class_id=CLASS_5)
    got = {(r[1], r[2]): (r[3], r[4]) for r in rep.rows}
    assert got[("Алексеев Артём", "Математика")] == (4.75, 5)
    assert got[("Алексеев Артём", "Русский язык")] == (2.5, 3)
    assert got[("Борисова Вера", "Математика")] == (3.25, 3)
    assert got[("Васильев Глеб", "Математика")] == (2.0, 2)
    assert got[("Григорьева Дарья", "Математика")] == (4.33, 4)
    assert got[("Класс (средний прогноз)", "Математика")] == (None, 3.5)  # (5+3+2+4)/4
    assert got[("Класс (средний прогноз)", "Русский язык")] == (None, 3.67)  # (3+4+4)/3


@pytest.mark.parametrize(("average", "mark"), [(2.49, 2), (2.5, 3), (3.5, 4), (4.49, 4), (4.5, 5)])
def test_forecast_rounds_half_up(average, mark):
    assert forecast_mark(average) == mark


def test_correction_log_flags_a_late_correction(school_db):
    rep = report(school_db, "corrections")
    assert rep.rows == (
        (
            "10.09.2026",
            "Соколов И.П.",
            "5, Русский язык",
            "5 — Борисова Вера",
            "4 — Борисова Вера",
            "Ошибка при выставлении",
            "поздняя (в другой день)",
        ),
    )


def test_no_conflicts_or_quarantine_in_a_clean_autumn(school_db):
    assert report(school_db, "conflicts").rows == ()


def test_summary_report_for_class_6(school_db):
    rep = report(school_db, "summary", class_id=CLASS_6)
    assert rep.header == ("Класс", "№", "Ученик", "Предмет", "1 четверть", "Год")
    assert rep.rows == (
        ("6", 1, "Дмитриев Егор", "Математика", 5, 5),
        ("6", 2, "Ершова Жанна", "Математика", 4, 4),
    )


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_report_prints_with_its_russian_title(school_db, name):
    rep = report(school_db, name)
    pdf = table_pdf(
        rep.title,
        rep.header,
        rep.rows,
        subtitle=rep.subtitle,
        notes=rep.notes,
        landscape=rep.landscape,
    )
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert rep.title in text
