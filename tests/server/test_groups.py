"""Groups with their own journals (issue 15): a class split for English has a journal per group,
imported from the school's lists; the group's teacher writes only that journal and only for
its pupils (refused at the keyboard and on the server); the class teacher reads both groups;
a pupil moved to the other group mid-year keeps the marks given in the old one."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from client_tui.services.grid import roster_for_month
from client_tui.services.session import Session
from scripts.school_lists import ENGLISH, csv_bytes, school_lists
from server import lists
from server.app import create_app
from server.archive import printed
from server.auth.service import create_account
from server.config import ServerConfig
from server.lists import ListKind, ListRefused
from server.lists.next_year import open_next_year
from server.lists.specs import LOAD_ORDER
from server.reports.catalog import build
from server.reports.dataset import Filters
from server.storage.db import connect
from server.storage.directory import load_full
from server.web.class_view import subject_grids
from server.web.diary import build_diary
from shared import groups, wire
from shared.fold import fold
from shared.model import (
    AttendanceCode,
    JournalInfo,
    MarkGiven,
    Role,
    journal_id,
    parse_journal_id,
    split_section,
)
from shared.rules import RuleViolation
from tests.server.lists_kit import deputy, school_from_lists
from tests.server.school_kit import Replica, Writer

URL = "http://school.local"
PASSWORD = "пароль-учителя"
YEAR = "sch-2026-2027"
CLASS_2A = f"{YEAR}-2a"
SUBJECT = "angliyskiy-yazyk"
GROUP_1 = journal_id(YEAR, CLASS_2A, SUBJECT, "1")
GROUP_2 = journal_id(YEAR, CLASS_2A, SUBJECT, "2")
LESSON_DAY = dt.date(2026, 10, 5)


@pytest.fixture(scope="module")
def rows() -> dict[ListKind, list[tuple[str, ...]]]:
    return school_lists(60, groups=True)  # 1А, 2А, 3А; English in two groups from grade 2


@pytest.fixture
def config(tmp_path: Path, rows) -> ServerConfig:
    return school_from_lists(tmp_path, rows, xlsx=(ListKind.PUPILS, ListKind.LOAD))


@pytest.fixture
def conn(config: ServerConfig) -> Iterator[sqlite3.Connection]:
    connection = connect(config.database)
    yield connection
    connection.close()


def _info(directory, jid: str) -> JournalInfo:
    return next(j for j in directory.journals if j.id == jid)


def _teacher_of(conn, group: str) -> str:
    return conn.execute(
        "SELECT teacher_id FROM teaching_load WHERE class_id = ? AND subject_id = ? "
        "AND group_name = ?",
        (CLASS_2A, SUBJECT, group),
    ).fetchone()[0]


def _laptop(tmp_path: Path, client: TestClient, conn, login: str, person_id: str) -> Session:
    create_account(conn, login=login, password=PASSWORD, role=Role.TEACHER, person_id=person_id)
    laptop = Session(tmp_path / login, http=client)
    laptop.login(URL, login, PASSWORD, device_name="ноутбук")
    return laptop


# ---------------------------------------------------------------------- ids


def test_a_group_journal_id_still_parses_as_three_parts_and_old_ids_are_unchanged():
    assert journal_id(YEAR, CLASS_2A, "matematika") == f"{YEAR}~{CLASS_2A}~matematika"
    assert parse_journal_id(GROUP_1) == (YEAR, CLASS_2A, f"{SUBJECT}+1")
    assert split_section(parse_journal_id(GROUP_1)[2]) == (SUBJECT, "1")
    assert split_section("matematika") == ("matematika", "")


# ---------------------------------------------------------------------- import


def test_groups_come_in_from_the_lists_and_each_has_its_own_journal(conn, rows):
    directory = load_full(conn, school_id="sch")
    english = {j.id for j in directory.journals if j.class_id == CLASS_2A and SUBJECT in j.id}
    assert english == {GROUP_1, GROUP_2}  # no whole-class English journal beside the groups
    first = groups.roster(directory, _info(directory, GROUP_1))
    second = groups.roster(directory, _info(directory, GROUP_2))
    whole = directory.class_roster(CLASS_2A)
    assert first and second
    assert {s.id for s in first} | {s.id for s in second} == {s.id for s in whole}
    assert not {s.id for s in first} & {s.id for s in second}
    # the group's teacher from the load file, its title in words
    group = groups.group_of(directory, _info(directory, GROUP_1))
    assert group is not None and group.teachers == (_teacher_of(conn, "1"),)
    assert groups.section_title(directory, _info(directory, GROUP_1)) == f"{ENGLISH}, группа 1"
    # subjects taught to the whole class keep the class's journal, as before
    assert journal_id(YEAR, CLASS_2A, "matematika") in {j.id for j in directory.journals}


def test_reimporting_the_pupils_with_their_groups_changes_nothing(conn, rows):
    data = csv_bytes(ListKind.PUPILS, rows[ListKind.PUPILS])
    shown = lists.preview(conn, ListKind.PUPILS, data, today=dt.date(2026, 10, 1))
    assert shown.ok and shown.unchanged, (shown.additions, shown.changes, shown.leavers)


def test_a_group_written_wrong_is_refused_with_its_line_and_nothing_written(conn, rows):
    pupils = list(rows[ListKind.PUPILS])
    pupils[3] = (*pupils[3][:6], "Английский язык 1")
    before = conn.execute("SELECT * FROM group_members ORDER BY 1, 2, 3, 4").fetchall()
    with pytest.raises(ListRefused) as refused:
        lists.apply(
            conn, ListKind.PUPILS, csv_bytes(ListKind.PUPILS, pupils), today=dt.date(2026, 10, 1)
        )
    assert [(e.line, e.reason) for e in refused.value.preview.errors] == [
        (5, "группы «Английский язык 1»: нужно «Предмет: группа», например «Английский язык: 1».")
    ]
    assert conn.execute("SELECT * FROM group_members ORDER BY 1, 2, 3, 4").fetchall() == before


# ---------------------------------------------------------------------- rights and rosters


def test_the_group_teacher_writes_only_the_group_and_only_its_pupils(tmp_path, config, conn):
    with TestClient(create_app(config), base_url=URL) as client:
        laptop = _laptop(tmp_path, client, conn, "english1", _teacher_of(conn, "1"))
        directory = laptop.directory
        assert laptop.book.info(GROUP_1).writable
        assert _teacher_of(conn, "2") != _teacher_of(conn, "1")
        other_group = [j for j in directory.journals if j.id == GROUP_2]
        assert not any(j.writable for j in other_group)  # read only if they lead the class
        ours = [s.id for s in groups.roster(directory, _info(directory, GROUP_1), LESSON_DAY)]
        grid = roster_for_month(directory, _info(directory, GROUP_1), LESSON_DAY)
        assert [r.student_id for r in grid] == ours
        other = next(s.id for s in directory.class_roster(CLASS_2A, LESSON_DAY) if s.id not in ours)
        lesson = laptop.book.record_lesson(GROUP_1, date=LESSON_DAY, topic="Present Simple")
        laptop.book.give_mark(GROUP_1, lesson.lesson_id, ours[0], 5)
        with pytest.raises(RuleViolation) as refused:  # at the keyboard
            laptop.book.give_mark(GROUP_1, lesson.lesson_id, other, 4)
        assert refused.value.message_ru == "Обучающийся не числится в этой группе на дату урока."
        assert laptop.sync().complete

        # on the server: a laptop that does not know the groups (an older release) is refused
        # the other group's pupil by a refusal event, and the pupil gets no mark
        writer = Writer(
            {
                "person_id": laptop.store.get("person_id"),
                "device_id": laptop.store.get("device_id"),
            },
            day=LESSON_DAY,
        )
        replica = Replica(GROUP_1)
        bad = writer.mark(lesson.lesson_id, other, 3)
        replica.add(writer.lesson("L-old", date=LESSON_DAY), bad)
        headers = {
            "Content-Type": wire.CONTENT_TYPE,
            "Authorization": f"Bearer {laptop.store.get('token')}",
        }

        def push(one: Replica) -> wire.JournalReply:
            body = wire.encode(wire.SyncRequest(journals=(one.push(),)))
            response = client.post("/api/v1/sync", content=body, headers=headers)
            assert response.status_code == 200, response.text
            return wire.decode(response.content).journals[0]

        assert push(replica).outcome == "accepted"
        # the other group's journal: refused whole, nothing stored
        intruder = Replica(GROUP_2)
        intruder.add(writer.lesson("L-other", date=LESSON_DAY))
        assert push(intruder).outcome == "refused"
        assert not conn.execute("SELECT 1 FROM lessons WHERE journal_id = ?", (GROUP_2,)).fetchone()
        refusal = conn.execute(
            "SELECT body FROM events WHERE id = ?", (f"refusal-{bad.id}",)
        ).fetchone()
        assert refusal is not None and '"rule":"student_in_class"' in refusal[0]
        marks = conn.execute(
            "SELECT student_id, value FROM marks WHERE journal_id = ?", (GROUP_1,)
        ).fetchall()
        assert [tuple(m) for m in marks] == [(ours[0], 5)]
        laptop.close()


def test_the_class_teacher_reads_every_group_of_the_class_and_writes_none(tmp_path, config, conn):
    lead = conn.execute(
        "SELECT teacher_id FROM class_teachers WHERE class_id = ?", (CLASS_2A,)
    ).fetchone()[0]
    teaches = {
        r[0]
        for r in conn.execute("SELECT subject_id FROM teaching_load WHERE teacher_id = ?", (lead,))
    }
    assume_not_english = SUBJECT not in teaches
    with TestClient(create_app(config), base_url=URL) as client:
        laptop = _laptop(tmp_path, client, conn, "lead", lead)
        infos = {j.id: j for j in laptop.directory.journals}
        assert {GROUP_1, GROUP_2} <= set(infos)
        if assume_not_english:
            assert not infos[GROUP_1].writable and not infos[GROUP_2].writable
        laptop.close()


def test_a_pupil_moved_to_the_other_group_keeps_the_old_marks_where_they_were(
    tmp_path, config, conn, rows
):
    with TestClient(create_app(config), base_url=URL) as client:
        laptop = _laptop(tmp_path, client, conn, "english1", _teacher_of(conn, "1"))
        directory = laptop.directory
        mover = groups.roster(directory, _info(directory, GROUP_1), LESSON_DAY)[0]
        lesson = laptop.book.record_lesson(GROUP_1, date=LESSON_DAY, topic="Present Simple")
        laptop.book.give_mark(GROUP_1, lesson.lesson_id, mover.id, 4)
        assert laptop.sync().complete

        # 16 November: the secretary's list puts the pupil in group 2
        birth = mover.birth_date.strftime("%d.%m.%Y")
        who = (mover.last_name, mover.first_name, birth)
        pupils = [(*r[:6], f"{ENGLISH}: 2") if r[:3] == who else r for r in rows[ListKind.PUPILS]]
        data = csv_bytes(ListKind.PUPILS, pupils)
        moved_on = dt.date(2026, 11, 16)
        shown = lists.preview(conn, ListKind.PUPILS, data, on=moved_on, today=moved_on)
        assert shown.changes == (
            f"{mover.full_name}, {birth}: {ENGLISH}, группа 1 → 2 с 16.11.2026 "
            "(отметки остаются в журнале группы 1)",
        )
        assert not shown.additions and not shown.leavers
        lists.apply(conn, ListKind.PUPILS, data, on=moved_on, today=moved_on)

        laptop.refresh_directory()
        directory = laptop.directory
        first, second = _info(directory, GROUP_1), _info(directory, GROUP_2)
        on = moved_on - dt.timedelta(days=1)
        assert mover.id in {s.id for s in groups.roster(directory, first, on)}
        assert mover.id not in {s.id for s in groups.roster(directory, first, moved_on)}
        full = load_full(conn, school_id="sch")
        assert mover.id in {s.id for s in groups.roster(full, second, moved_on)}
        assert mover.id not in {s.id for s in groups.roster(full, second, on)}
        # the old group's journal keeps the mark; its teacher cannot give a new one after
        assert (
            conn.execute(
                "SELECT value FROM marks WHERE journal_id = ? AND student_id = ?",
                (GROUP_1, mover.id),
            ).fetchone()[0]
            == 4
        )
        later = laptop.book.record_lesson(GROUP_1, date=dt.date(2026, 11, 20), topic="Past")
        with pytest.raises(RuleViolation):
            laptop.book.give_mark(GROUP_1, later.lesson_id, mover.id, 5)
        assert isinstance(
            laptop.book.give_mark(GROUP_1, lesson.lesson_id, mover.id, 5, reason="опечатка"),
            MarkGiven,
        )
        assert laptop.sync().complete
        laptop.close()


# ---------------------------------------------------------------------- the archive


def test_the_archive_prints_each_group_journal_with_its_own_pupils_in_its_own_folder(conn):
    directory = load_full(conn, school_id="sch")
    first, second = _info(directory, GROUP_1), _info(directory, GROUP_2)
    assert printed.journal_folder(first) == f"journals/{CLASS_2A}/{SUBJECT}+1"
    assert printed.journal_folder(second) != printed.journal_folder(first)
    whole = _info(directory, journal_id(YEAR, CLASS_2A, "matematika"))
    assert printed.journal_folder(whole) == f"journals/{CLASS_2A}/matematika"  # as before
    page = printed.journal_print_data(
        directory, first, fold({}), dt.datetime(2027, 6, 1, tzinfo=dt.UTC)
    )
    assert page["subject"] == f"{ENGLISH}, группа 1"
    assert page["teachers"] == [printed.staff_name(directory, _teacher_of(conn, "1"))]
    names = [row[1] for row in page["period_rows"]]
    assert names == [s.full_name for s in groups.roster(directory, first)]
    assert len(names) < len(directory.class_roster(CLASS_2A))


# ---------------------------------------------------------------------- pages and reports


def test_reports_diary_and_class_view_see_each_pupil_once_in_their_own_group(
    tmp_path, config, conn
):
    day = dt.date(2026, 10, 6)
    with TestClient(create_app(config), base_url=URL) as client:
        for login, group, topic in (("en1", "1", "Группа один"), ("en2", "2", "Группа два")):
            laptop = _laptop(tmp_path, client, conn, login, _teacher_of(conn, group))
            jid = GROUP_1 if group == "1" else GROUP_2
            lesson = laptop.book.record_lesson(jid, date=day, topic=topic)
            if group == "1":
                pupils = groups.roster(laptop.directory, _info(laptop.directory, jid), day)
                absent = pupils[0]
                laptop.book.mark_attendance(
                    jid, lesson.lesson_id, [absent.id], AttendanceCode.ABSENT
                )
            assert laptop.sync().complete
            laptop.close()
    directory = load_full(conn, school_id="sch")

    # the pupil missed every lesson they had that day (group 2's lesson is not theirs)
    rep = build(conn, directory, "attendance", Filters(date_from=day, date_to=day))
    rows = {row[1]: tuple(row[2:]) for row in rep.rows}
    # уроков, по болезни, уважит., без причины, дней, дней по болезни, опозданий
    assert rows[absent.full_name] == (1, 0, 0, 1, 1, 0, 0)

    # the diary shows the pupil's own group's lesson, never the other group's
    diary = build_diary(conn, directory, absent, day)
    topics = [x.topic for d in diary.days for x in d.lessons]
    assert topics == ["Группа один"]

    # the class teacher's view: a grid per group, each with its own pupils
    grids = {
        g.subject: g
        for g in subject_grids(conn, directory, CLASS_2A, day, day)
        if ENGLISH in g.subject
    }
    assert set(grids) == {f"{ENGLISH}, группа 1", f"{ENGLISH}, группа 2"}
    first = groups.roster(directory, _info(directory, GROUP_1))
    assert len(grids[f"{ENGLISH}, группа 1"].rows) == len(first)
    assert [row[1] for row in grids[f"{ENGLISH}, группа 1"].rows].count(["н"]) == 1


def test_the_next_year_keeps_the_groups_and_who_is_in_them(conn):
    before = load_full(conn, school_id="sch")
    old = {g: {s.id for s in groups.roster(before, _info(before, g))} for g in (GROUP_1, GROUP_2)}
    opened = open_next_year(conn, deputy(conn), today=dt.date(2027, 6, 1))
    after = load_full(conn, school_id="sch")
    assert after.year.id == opened.year.id
    class_3a = f"{opened.year.id}-3a"
    for group, was in (("1", old[GROUP_1]), ("2", old[GROUP_2])):
        info = _info(after, journal_id(opened.year.id, class_3a, SUBJECT, group))
        assert {s.id for s in groups.roster(after, info)} == was


def test_a_load_naming_groups_nobody_is_in_says_so_before_applying(tmp_path):
    plain = school_lists(60)  # the pupils' list says nothing of groups
    conn = connect(school_from_lists(tmp_path, plain, kinds=LOAD_ORDER[:-1]).database)
    shown = lists.preview(
        conn,
        ListKind.LOAD,
        csv_bytes(ListKind.LOAD, plain[ListKind.LOAD]),
        today=dt.date(2026, 9, 1),
    )
    assert shown.ok
    assert any(
        "2А Английский язык (группа 1)" in n and "пока нет учеников" in n for n in shown.notes
    )
    conn.close()


def test_a_pupil_left_without_a_group_of_a_split_subject_is_flagged(conn, rows):
    pupils = list(rows[ListKind.PUPILS])
    index = next(i for i, r in enumerate(pupils) if r[3] == "2А")
    pupils[index] = (*pupils[index][:6], "")
    shown = lists.preview(
        conn, ListKind.PUPILS, csv_bytes(ListKind.PUPILS, pupils), today=dt.date(2026, 10, 1)
    )
    assert shown.ok
    name = f"{pupils[index][0]} {pupils[index][1]} {pupils[index][4]}, {pupils[index][2]}"
    assert shown.notes[0] == (
        f"2А, {ENGLISH}: предмет ведут по группам, а у 1 ученика группа не указана ({name}) — "
        "в журналах групп их не будет."
    )
    assert any("выходит из группы" in c for c in shown.changes)


def test_a_group_written_in_another_case_is_the_same_group(tmp_path):
    plain = school_lists(60)
    load = [(*r[:3], "Девочки" if r[3] == "1" else r[3], *r[4:]) for r in plain[ListKind.LOAD]]
    pupils = [(*r, f"{ENGLISH}: девочки" if r[3] == "2А" else "") for r in plain[ListKind.PUPILS]]
    rows = plain | {ListKind.LOAD: load, ListKind.PUPILS: pupils}
    conn = connect(school_from_lists(tmp_path, rows).database)
    directory = load_full(conn, school_id="sch")
    girls = [g for g in directory.groups if g.class_id == CLASS_2A and g.key == "devochki"]
    assert len(girls) == 1 and girls[0].teachers
    info = _info(directory, journal_id(YEAR, CLASS_2A, SUBJECT, "devochki"))
    assert {s.id for s in groups.roster(directory, info)} == {
        s.id for s in directory.class_roster(CLASS_2A)
    }
    again = lists.preview(
        conn, ListKind.PUPILS, csv_bytes(ListKind.PUPILS, pupils), today=dt.date(2026, 10, 1)
    )
    assert again.unchanged
    conn.close()


def test_a_class_split_mid_year_keeps_its_whole_class_journal_readable(tmp_path, rows):
    """English in 2А was taught to the whole class until November, then split: the lessons
    already entered stay listed in the class's journal beside the new group journals."""
    whole_load = [
        r for r in rows[ListKind.LOAD] if not (r[1] == "2А" and r[2] == ENGLISH and r[3] == "2")
    ]
    whole_load = [
        (*r[:3], "", *r[4:]) if (r[1] == "2А" and r[2] == ENGLISH) else r for r in whole_load
    ]
    config = school_from_lists(tmp_path, rows | {ListKind.LOAD: whole_load})
    conn = connect(config.database)
    whole = journal_id(YEAR, CLASS_2A, SUBJECT)
    teacher = _teacher_of(conn, "")
    with TestClient(create_app(config), base_url=URL) as client:
        laptop = _laptop(tmp_path, client, conn, "english", teacher)
        assert laptop.book.info(whole).writable
        laptop.book.record_lesson(whole, date=LESSON_DAY, topic="Alphabet")
        assert laptop.sync().complete
        split = dt.date(2026, 11, 2)
        lists.apply(conn, ListKind.LOAD, csv_bytes(ListKind.LOAD, rows[ListKind.LOAD]), today=split)
        laptop.refresh_directory()
        ids = {j.id for j in laptop.directory.journals}
        assert {whole, GROUP_1, GROUP_2} <= ids
        assert [x.topic for x in laptop.book.state(whole).lessons()] == ["Alphabet"]
        laptop.close()
    conn.close()
