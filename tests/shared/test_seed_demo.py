"""The demo school: realistic, deterministic, and every entry allowed by the shared rules."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter, defaultdict

import pytest

from scripts.seed_demo import PASSWORDS, build_demo_school, write_csv_exports
from shared.fold import fold
from shared.hlc import stamp_date
from shared.journal import JournalDoc
from shared.model import (
    LessonRecorded,
    MarkGiven,
    PeriodMarkGiven,
    Retracted,
    Role,
    journal_id,
)
from shared.rules import JournalContext, check_new_events

TODAY = dt.date(2026, 11, 20)
EMPTY = fold({})


@pytest.fixture(scope="module")
def school():
    return build_demo_school()


def test_every_event_passes_the_shared_rules(school):
    directory = school.directory
    assert {j.id for j in directory.journals} == set(school.events)
    for info in directory.journals:
        assert not info.writable
        ctx = JournalContext.from_directory(directory, info)
        assert check_new_events(EMPTY, school.events[info.id], ctx) == [], info.id


def test_rules_hold_when_the_term_is_cut_short():
    short = build_demo_school(today=dt.date(2026, 10, 1))
    events = [e for evs in short.events.values() for e in evs]
    assert max(e.date for e in events if isinstance(e, LessonRecorded)) == dt.date(2026, 9, 30)
    assert not any(isinstance(e, PeriodMarkGiven) for e in events)  # quarter 1 still running
    for info in short.directory.journals:
        ctx = JournalContext.from_directory(short.directory, info)
        assert check_new_events(EMPTY, short.events[info.id], ctx) == [], info.id


def test_deterministic_for_a_seed(school):
    assert build_demo_school() == school
    assert build_demo_school(seed=7) != school


def test_classes_teachers_and_pupils(school):
    directory = school.directory
    assert [c.grade for c in directory.classes] == list(range(1, 12))
    teachers = {s.id for s in directory.staff if Role.TEACHER in s.roles}
    class_teacher = {ct.class_id: ct.teacher_id for ct in directory.class_teachers}
    for school_class in directory.classes:
        assert class_teacher[school_class.id] in teachers
        assert 4 <= len(directory.class_roster(school_class.id, TODAY)) <= 9
    roles = Counter(r for s in directory.staff for r in s.roles)
    assert roles[Role.DIRECTOR] == roles[Role.DEPUTY] == roles[Role.RECORDS_OFFICER] == 1
    assert roles[Role.SYSADMIN] == 1 and 12 <= len(directory.staff) <= 16
    # one teacher per class and subject, and one journal per teaching assignment
    pairs = [(t.class_id, t.subject_id) for t in directory.teaching]
    assert len(pairs) == len(set(pairs)) == len(directory.journals)
    ids = {journal_id(j.year_id, j.class_id, j.subject_id) for j in directory.journals}
    assert ids == {j.id for j in directory.journals}


def test_names_agree_in_gender(school):
    for student in school.directory.students:
        female = student.patronymic.endswith("на")
        assert student.patronymic.endswith(("вна", "ична")) == female
        if student.last_name.endswith(("ов", "ев", "ёв", "ин", "ова", "ева", "ёва", "ина")):
            assert student.last_name.endswith("а") == female, student.full_name


def test_membership_history(school):
    memberships = school.directory.memberships
    assert [m.ends for m in memberships if m.ends] == [dt.date(2026, 10, 30)]
    assert [m.starts for m in memberships if m.starts != dt.date(2026, 9, 1)] == [
        dt.date(2026, 10, 12)
    ]


def test_accounts(school):
    logins = [a.login for a in school.accounts]
    assert len(logins) == len(set(logins))
    assert all(re.fullmatch(r"[a-z0-9.]+", login) for login in logins)
    by_role = Counter(a.role for a in school.accounts)
    assert by_role[Role.PARENT] == len(school.parents)
    grade = {c.id: c.grade for c in school.directory.classes}
    seniors = {m.student_id for m in school.directory.memberships if grade[m.class_id] >= 5}
    assert by_role[Role.STUDENT] == len(seniors)
    staff_accounts = {a.person_id for a in school.accounts if a.password == PASSWORDS["staff"]}
    assert staff_accounts == {s.id for s in school.directory.staff}


def test_families_with_children_in_different_classes(school):
    children = defaultdict(set)
    for link in school.parent_links:
        children[link.parent_id].add(link.student_id)
    class_of = {m.student_id: m.class_id for m in school.directory.memberships}
    families = {frozenset(kids) for kids in children.values() if len(kids) == 2}
    assert len(families) >= 2
    assert all(len({class_of[s] for s in kids}) == 2 for kids in families)
    per_student = Counter(link.student_id for link in school.parent_links)
    assert set(per_student.values()) <= {1, 2}
    assert set(per_student) == {s.id for s in school.directory.students}


def test_events_are_ordered_and_unique(school):
    ids = [e.id for evs in school.events.values() for e in evs]
    assert len(ids) == len(set(ids))
    for evs in school.events.values():
        stamps = [e.hlc for e in evs]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    kinds = Counter(type(e) for evs in school.events.values() for e in evs)
    assert kinds[Retracted] >= 2 and kinds[PeriodMarkGiven] > 0
    corrections = [
        e
        for evs in school.events.values()
        for e in evs
        if isinstance(e, MarkGiven) and e.supersedes
    ]
    assert any(e.reason == "исправлена описка" for e in corrections)


def test_fold_through_the_crdt_document(school):
    events = school.events[journal_id("2026-2027", "2026-2027-5", "math")]
    doc = JournalDoc()
    doc.add(events)
    state = fold(doc.events())
    lesson_ids = {e.lesson_id for e in events if isinstance(e, LessonRecorded)}
    assert len(state.lessons()) == len(lesson_ids) > 40
    # quarter marks are the rounded weighted average of the quarter's current marks
    q1_lessons = {e.lesson_id for e in state.lessons() if e.date <= dt.date(2026, 10, 24)}
    for student in school.directory.class_roster("2026-2027-5"):
        marks = [m for m in state.all_marks() if m.student_id == student.id]
        marks = [m for m in marks if m.lesson_id in q1_lessons]
        period = state.period_mark("2026-2027-q1", student.id)
        if not marks:
            assert period is None
            continue
        average = sum(m.value * m.weight for m in marks) / sum(m.weight for m in marks)
        assert period is not None and period.value == int(average + 0.5)
        assert stamp_date(period.hlc) >= max(
            e.date for e in state.lessons() if e.lesson_id in q1_lessons
        )


def test_quarter_marks_only_where_quarters_are_used(school):
    graded = {
        info.class_id
        for info in school.directory.journals
        if any(isinstance(e, PeriodMarkGiven) for e in school.events[info.id])
    }
    assert graded == {f"2026-2027-{g}" for g in range(3, 10)}


def test_csv_exports(school, tmp_path):
    paths = write_csv_exports(school, tmp_path)
    assert paths["students"].read_bytes().startswith(b"\xef\xbb\xbf")
    with paths["students"].open(encoding="utf-8-sig", newline="") as f:
        students = list(csv.DictReader(f, delimiter=";"))
    assert list(students[0]) == ["Фамилия", "Имя", "Отчество", "Дата рождения", "Класс"]
    assert len(students) == len(school.directory.students) - 1  # the pupil who left
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4}", row["Дата рождения"]) for row in students)
    assert {row["Класс"] for row in students} == {str(g) for g in range(1, 12)}
    with paths["staff"].open(encoding="utf-8-sig", newline="") as f:
        staff = list(csv.DictReader(f, delimiter=";"))
    assert len(staff) == len(school.directory.staff)
    director = next(row for row in staff if row["Должность"].startswith("директор"))
    assert director["Предметы и классы"].startswith("История: 5, 6, 7")
    assert any(row["Должность"] == "документовед" and not row["Предметы и классы"] for row in staff)


def test_the_neighbour_school_passes_the_rules_and_shares_no_id_with_the_first(school):
    from scripts.seed_demo import DISTRICT_LOGIN, build_neighbour_school

    neighbour = build_neighbour_school()
    assert build_neighbour_school() == neighbour  # deterministic too
    directory = neighbour.directory
    assert directory.school.district == school.directory.school.district
    assert [c.grade for c in directory.classes] == [5, 6, 7, 8, 9]
    for info in directory.journals:
        ctx = JournalContext.from_directory(directory, info)
        assert check_new_events(EMPTY, neighbour.events[info.id], ctx) == [], info.id
    first = school.directory

    def ids(d) -> set[str]:
        return {x.id for x in (d.year, *d.periods, *d.classes, *d.students, *d.staff)}

    assert not ids(first) & ids(directory)
    assert not {p.id for p in school.parents} & {p.id for p in neighbour.parents}
    assert not {a.login for a in school.accounts} & {a.login for a in neighbour.accounts}
    events = lambda s: {e.id for evs in s.events.values() for e in evs}  # noqa: E731
    assert not events(school) & events(neighbour)
    district = next(a for a in neighbour.accounts if a.login == DISTRICT_LOGIN)
    assert (district.role, district.person_id) == (Role.DISTRICT, first.school.district)
