"""Results as the district asks for them and the attendance summary (issue 16), against
figures counted by hand from tests/reports_school.py (first quarter, 01.09–24.10.2026).

Q1 period marks: class 5 — Алексеев math 5, rus 3 (one «3»); Борисова 3, 4 (one «3»);
Васильев 2, 4 (failing); Григорьева 4, 4 (хорошист). Class 6 — Дмитриев 5 (отличник),
Ершова 4 (хорошист).
"""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from server.config import ServerConfig
from server.printing.tables import table_csv, table_xlsx
from server.reports.attestation import (
    EXCELLENT,
    FAILING,
    GOOD,
    NOT_ATTESTED,
    ONE_THREE,
    OTHER,
    UNMARKED,
    classify,
)
from server.reports.dataset import Filters
from server.seeding import load_journals
from server.storage import directory as directory_storage
from shared.model import MarkSpecial, NotAttestedReason, PeriodMarkGiven
from tests.factories import MATH_5, MATH_6, YEAR
from tests.printing.test_reports import report

Q1 = f"{YEAR}-q1"
HAND = {
    # Учеников, аттестуемых, отл., хор., с одной «3», неусп., н/а, осв.,
    # успеваемость и качество по ученикам, затем по отметкам
    "5": (4, 4, 0, 1, 2, 1, 0, 0, 75.0, 25.0, 87.5, 62.5),  # marks 5 3 2 4 | 3 4 4 4
    "6": (2, 2, 1, 1, 0, 0, 0, 0, 100.0, 100.0, 100.0, 100.0),
    "Итого по школе": (6, 6, 1, 2, 2, 1, 0, 0, 83.3, 50.0, 90.0, 70.0),
}


def figures(rep) -> dict[str, tuple]:
    return {row[0]: tuple(row[2:]) for row in rep.rows}


def test_classify_each_category() -> None:
    assert classify([(5, ""), (5, ""), (0, "pass")]) == EXCELLENT
    assert classify([(5, ""), (4, "")]) == GOOD
    assert classify([(5, ""), (3, ""), (4, "")]) == ONE_THREE
    assert classify([(3, ""), (3, "")]) == OTHER
    assert classify([(5, ""), (2, "")]) == FAILING
    assert classify([(5, ""), (0, "fail")]) == FAILING
    assert classify([(2, ""), (0, "na")]) == NOT_ATTESTED
    assert classify([(0, "exempt"), (4, "")]) == GOOD
    assert classify([]) == UNMARKED


def test_results_by_pupils_per_class_grade_and_school(school_db) -> None:
    rep = report(school_db, "attestation")
    found = figures(rep)
    assert found["5"] == HAND["5"] and found["5 классы"] == HAND["5"]
    assert found["6"] == HAND["6"] and found["6 классы"] == HAND["6"]
    assert found["Итого по школе"] == HAND["Итого по школе"]
    assert {row[1] for row in rep.rows} == {"1 четверть"}
    assert "доля учеников" in rep.header[10] and "доля отметок" in rep.header[12]


def test_the_xlsx_and_csv_carry_the_same_counts(school_db) -> None:
    rep = report(school_db, "attestation")
    book = load_workbook(io.BytesIO(table_xlsx(rep.title, rep.header, rep.rows)))
    sheet = [list(r) for r in book.active.iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(sheet) if r and r[0] == "Класс")
    by_name = {r[0]: tuple(r[2:]) for r in sheet[header_at + 1 :]}
    assert by_name["Итого по школе"] == HAND["Итого по школе"]
    text = table_csv(rep.header, rep.rows).decode("utf-8-sig")
    assert "Итого по школе;1 четверть;6;6;1;2;2;1;0;0;83,30;50,00;90,00;70,00" in text


def _special(author, device, n, period_id, student, supersedes, **fields) -> PeriodMarkGiven:
    from shared.hlc import Clock

    moment = dt.datetime(2026, 10, 26, 16, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    clock = Clock(device, now=lambda: moment.timestamp())
    return PeriodMarkGiven(
        id=f"{device}-special-{n}",
        author=author,
        device=device,
        hlc=clock.tick(),
        supersedes=supersedes,
        reason="Исправление по документу",
        period_id=period_id,
        student_id=student,
        value=0,
        **fields,
    )


def test_not_attested_and_exempt_pupils_counted_by_hand(school_db) -> None:
    """Ершова's quarter becomes «н/а» (absences); Григорьева is exempt from math («осв.»),
    keeps russian 4: still a хорошист, and counted among the exempt."""
    config = ServerConfig(database=school_db.execute("PRAGMA database_list").fetchone()[2])

    def old(journal: str, student: str) -> tuple[str, ...]:
        row = school_db.execute(
            "SELECT event_id FROM period_marks WHERE journal_id = ? AND period_id = ? "
            "AND student_id = ?",
            (journal, Q1, student),
        ).fetchone()
        return (row[0],)

    events = {
        MATH_6: [
            _special(
                "t-math",
                "d-math-6-fixture",
                1,
                Q1,
                "s-6",
                old(MATH_6, "s-6"),
                special=MarkSpecial.NOT_ATTESTED,
                na_reason=NotAttestedReason.ABSENCES,
            )
        ],
        MATH_5: [
            _special(
                "t-math",
                "d-math-fixture",
                1,
                Q1,
                "s-4",
                old(MATH_5, "s-4"),
                special=MarkSpecial.EXEMPT,
                document="Справка ВК № 7",
                exempt_from=dt.date(2026, 10, 10),
                exempt_to=dt.date(2026, 10, 24),
            )
        ],
    }
    directory = directory_storage.load_full(school_db)
    assert load_journals(school_db, config, directory, events) == 0
    found = figures(report(school_db, "attestation"))
    # class 5 marks now 5 3 2 | 3 4 4 4: 7 marks, one «2», four «4»/«5»
    assert found["5"] == (4, 4, 0, 1, 2, 1, 0, 1, 75.0, 25.0, 85.7, 57.1)
    assert found["6"] == (2, 2, 1, 0, 0, 0, 1, 0, 50.0, 50.0, 100.0, 100.0)
    assert found["Итого по школе"] == (6, 6, 1, 1, 2, 1, 1, 1, 66.7, 33.3, 87.5, 62.5)


def test_year_results_use_the_year_column(school_db) -> None:
    """Without dates the report counts the year marks: only math 5 and 6 have them so far."""
    found = figures(report(school_db, "attestation", date_from=None, date_to=None))
    # class 5: Алексеев 5 (отличник); the three others have no year mark yet
    assert found["5"][:8] == (4, 1, 1, 0, 0, 0, 0, 0)
    assert found["6"][:8] == (2, 2, 1, 1, 0, 0, 0, 0)


def test_attendance_summary_per_pupil_counted_by_hand(school_db) -> None:
    """Absences: Васильев н 07.09 (math) and н 08.09 (russian); Григорьева б 14.09;
    Борисова н 15.09 (russian). Class 5 has one lesson on each of those days, so every
    absence is a whole missed day."""
    rep = report(school_db, "attendance")
    rows = {row[1]: tuple(row[2:]) for row in rep.rows}
    # уроков, по болезни, уважит., без причины, дней, дней по болезни, опозданий
    assert rows["Васильев Глеб"] == (2, 0, 0, 2, 2, 0, 0)
    assert rows["Григорьева Дарья"] == (1, 1, 0, 0, 1, 1, 0)
    assert rows["Борисова Вера"] == (1, 0, 0, 1, 1, 0, 0)
    assert set(rows) == {"Васильев Глеб", "Григорьева Дарья", "Борисова Вера"}


def test_both_reports_unknown_filters_stay_empty(school_db) -> None:
    rep = report(
        school_db, "attestation", date_from=dt.date(2026, 9, 1), date_to=dt.date(2026, 9, 5)
    )
    assert rep.rows == ()
    assert Filters().describe(directory_storage.load_full(school_db))


def test_district_figures_use_the_same_counts(school_db) -> None:
    """The district's anonymous figures classify pupils by the same rule and period."""
    from server.reports.district import district_report

    schools = school_db.execute("SELECT * FROM schools").fetchall()
    rep = district_report(school_db, schools, dt.date(2026, 9, 1), dt.date(2026, 10, 24))
    rows = {row[1]: row for row in rep.rows}
    first = rep.header.index("Отличники")
    # отл., хор., с одной «3», неусп., н/а, осв., успеваемость и качество по ученикам
    assert rows["все"][first:] == (1, 2, 2, 1, 0, 0, 83.3, 50.0)
    assert rows["5 кл."][first:] == (0, 1, 2, 1, 0, 0, 75.0, 25.0)
    assert rows["6 кл."][first:] == (1, 1, 0, 0, 0, 0, 100.0, 100.0)
    assert "доля учеников" in rep.header[-1] and "доля отметок" in rep.header[5]
