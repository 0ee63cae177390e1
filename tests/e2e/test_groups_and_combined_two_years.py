"""Two years of a school with English in two groups and mathematics taught to 2А and 4А together
(класс-комплект), from its files (issue 15): lists in as CSV and XLSX → three teachers enter
lessons offline and sync (the combined lesson once, both groups) → a pupil moves to the other
group in November → year marks, the year closed, the next year opened with promotions → the
groups and the combined classes reach the laptops one grade up, last year's journals stay
read-only → the personal file shows both years, with the English mark from the pupil's group.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from litestar.testing import TestClient

from client_tui.services.session import Session
from scripts.school_lists import ENGLISH, csv_bytes, school_lists
from server import lists
from server.app import create_app
from server.archive import keys, personal_file
from server.archive.closing import close_year
from server.archive.package import build_package
from server.archive.readback import compare, open_package
from server.auth.service import create_account
from server.lists import ListKind
from server.lists.next_year import open_next_year
from server.storage.db import connect
from shared import groups
from shared.model import MarkKind, Role, journal_id
from shared.rules import RuleViolation
from tests.server.lists_kit import deputy, school_from_lists

pytestmark = pytest.mark.slow
URL = "http://school.local"
PASSWORD = "пароль-учителя"
Y1, Y2 = "sch-2024-2025", "sch-2025-2026"
EN = "angliyskiy-yazyk"


def _rows() -> dict[ListKind, list[tuple[str, ...]]]:
    rows = school_lists(100, year=2024, groups=True)  # 1А–4А; English in groups from grade 2
    load = rows[ListKind.LOAD]
    teacher = next(r[0] for r in load if r[1] == "2А" and r[2] == "Математика")
    kept = [r for r in load if not (r[1] in ("2А", "4А") and r[2] == "Математика")]
    return rows | {ListKind.LOAD: [*kept, (teacher, "2А+4А", "Математика", "", "5")]}


def _laptop(tmp_path: Path, client, conn, login: str, person_id: str) -> Session:
    create_account(conn, login=login, password=PASSWORD, role=Role.TEACHER, person_id=person_id)
    laptop = Session(tmp_path / login, http=client)
    laptop.login(URL, login, PASSWORD, device_name="ноутбук")
    return laptop


def _year_marks(laptop: Session, jid: str, period_id: str, day: dt.date, value: int) -> set[str]:
    book = laptop.book
    pupils = {s.id for s in groups.roster(laptop.directory, book.info(jid), day)}
    lesson = book.record_lesson(jid, date=day, topic="Итоговое повторение")
    for pupil in pupils:
        book.give_mark(jid, lesson.lesson_id, pupil, value)
        book.give_period_mark(jid, period_id, pupil, value, mark_kind=MarkKind.YEAR)
    return pupils


def test_groups_and_a_combined_class_over_two_years_from_files(tmp_path: Path):
    rows = _rows()
    config = school_from_lists(
        tmp_path, rows, xlsx=(ListKind.PARENTS, ListKind.LOAD), first_year=2024
    )
    conn = connect(config.database)
    create_account(conn, login="deputy", password=PASSWORD, role=Role.DEPUTY,
                   person_id=deputy(conn).person_id)  # fmt: skip
    load = {
        (r[0], r[1], r[2]): r[3]
        for r in conn.execute(
            "SELECT class_id, subject_id, group_name, teacher_id FROM teaching_load"
        )
    }
    c2a, c4a = f"{Y1}-2a", f"{Y1}-4a"
    en1, en2 = journal_id(Y1, c2a, EN, "1"), journal_id(Y1, c2a, EN, "2")
    math2a, math4a = journal_id(Y1, c2a, "matematika"), journal_id(Y1, c4a, "matematika")
    autumn, november = dt.date(2024, 10, 7), dt.date(2024, 11, 18)

    with TestClient(create_app(config), base_url=URL) as client:
        math = _laptop(tmp_path, client, conn, "math", load[(c2a, "matematika", "")])
        first = _laptop(tmp_path, client, conn, "en1", load[(c2a, EN, "1")])
        second = _laptop(tmp_path, client, conn, "en2", load[(c2a, EN, "2")])

        # offline: the combined lesson once, each pupil marked in their own class's journal
        lesson = math.book.record_lesson(math2a, date=autumn, topic="Задачи")
        assert math.book.state(math4a).lesson(lesson.lesson_id) is not None
        for jid, class_id in ((math2a, c2a), (math4a, c4a)):
            pupil = math.directory.class_roster(class_id, autumn)[0]
            math.book.give_mark(jid, lesson.lesson_id, pupil.id, 5)
        # both groups, each with its own pupils
        mover = groups.roster(first.directory, first.book.info(en1), autumn)[0]
        for laptop, jid in ((first, en1), (second, en2)):
            held = laptop.book.record_lesson(jid, date=autumn, topic="Present Simple")
            for pupil in groups.roster(laptop.directory, laptop.book.info(jid), autumn):
                laptop.book.give_mark(jid, held.lesson_id, pupil.id, 4)
        for laptop in (math, first, second):
            assert laptop.sync().complete

        # November: the secretary's list puts the mover in group 2
        birth = mover.birth_date.strftime("%d.%m.%Y")
        who = (mover.last_name, mover.first_name, birth)
        pupils = [(*r[:6], f"{ENGLISH}: 2") if r[:3] == who else r for r in rows[ListKind.PUPILS]]
        data = csv_bytes(ListKind.PUPILS, pupils)
        shown = lists.preview(conn, ListKind.PUPILS, data, on=november, today=november)
        assert [c for c in shown.changes if "группа 1 → 2" in c] == [
            f"{mover.full_name}, {birth}: {ENGLISH}, группа 1 → 2 с 18.11.2024 "
            "(отметки остаются в журнале группы 1)"
        ]
        lists.apply(conn, ListKind.PUPILS, data, on=november, today=november)
        for laptop in (first, second):
            laptop.refresh_directory()

        # May: year marks in both classes of the combined set and in both groups
        may = dt.date(2025, 5, 20)
        _year_marks(math, math2a, f"{Y1}-y", may, 4)
        _year_marks(math, math4a, f"{Y1}-y", may, 4)
        assert mover.id not in _year_marks(first, en1, f"{Y1}-y", may, 3)
        assert mover.id in _year_marks(second, en2, f"{Y1}-y", may, 5)
        for laptop in (math, first, second):
            assert laptop.sync().complete
        assert conn.execute(
            "SELECT value FROM marks WHERE journal_id = ? AND student_id = ? AND value = 4 "
            "AND lesson_id = (SELECT lesson_id FROM lessons WHERE journal_id = ? AND date = ?)",
            (en1, mover.id, en1, autumn.isoformat()),
        ).fetchone()  # the autumn mark stays in group 1's journal

        close_year(conn, login="deputy", year_id=Y1, on=dt.date(2025, 6, 1))
        # group 1's journal archived on its own: its folder, its pupils, read back the same
        key = keys.generate(tmp_path / "keys" / "archive-key.pem", password=b"")
        made = build_package(
            conn, out_dir=tmp_path / "archive", key=key, login="deputy", journal_id=en1,
            now=dt.datetime(2025, 6, 2, tzinfo=dt.UTC),
        )  # fmt: skip
        assert (made.path / "data" / "journals" / c2a / f"{EN}+1" / "journal.pdf").is_file()
        archived = open_package(made.path)
        try:
            result = compare(archived)
        finally:
            archived.close()
        assert result.ok and not result.missing, result.different
        open_next_year(conn, deputy(conn), today=dt.date(2025, 6, 1))

        # the next year reaches the laptops: groups and the combined set one grade up
        for laptop in (math, first, second):
            laptop.refresh_directory()
        c3a, c5a = f"{Y2}-3a", f"{Y2}-5a"
        new_en2 = journal_id(Y2, c3a, EN, "2")
        assert mover.id in {
            s.id for s in groups.roster(second.directory, second.book.info(new_en2))
        }
        new_math = journal_id(Y2, c3a, "matematika")
        assert second.book.info(en2).writable is False  # last year's: read-only, still listed
        with pytest.raises(RuleViolation):
            second.book.record_lesson(en2, date=may, topic="Поздно")
        autumn2 = dt.date(2025, 10, 6)
        again = math.book.record_lesson(new_math, date=autumn2, topic="Дроби")
        assert math.book.state(journal_id(Y2, c5a, "matematika")).lesson(again.lesson_id)
        _year_marks(math, new_math, f"{Y2}-y", dt.date(2026, 5, 20), 5)
        for laptop in (math, first, second):
            assert laptop.sync().complete
            laptop.close()
    close_year(conn, login="deputy", year_id=Y2, on=dt.date(2026, 6, 1))

    file = personal_file.pages(conn, mover.id)
    assert [
        (p.year_name, dict(p.marks).get(ENGLISH), dict(p.marks).get("Математика")) for p in file
    ] == [
        ("2024/2025", 5, 4),
        ("2025/2026", None, 5),
    ]
    conn.close()
