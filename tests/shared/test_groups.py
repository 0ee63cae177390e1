"""shared.groups: a group journal's pupils on a day are exactly those in the class and in the
group that day, whatever the memberships' dates (hypothesis), and its writers are the group's
teachers only."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from shared import groups
from shared.model import (
    Directory,
    GroupMembership,
    JournalInfo,
    Membership,
    School,
    SchoolYear,
    StudyGroup,
    TeachingAssignment,
)

START = dt.date(2026, 9, 1)
YEAR = SchoolYear(id="y", school_id="s", name="2026/2027", starts=START, ends=dt.date(2027, 5, 31))
GROUP = JournalInfo(id="y~c~en+1", year_id="y", class_id="c", subject_id="en", group="1")
WHOLE = JournalInfo(id="y~c~math", year_id="y", class_id="c", subject_id="math")

spans = st.tuples(st.integers(0, 270), st.one_of(st.none(), st.integers(0, 270))).map(
    lambda t: (
        START + dt.timedelta(days=t[0]),
        None if t[1] is None else START + dt.timedelta(days=t[0] + t[1]),
    )
)


def _covers(starts: dt.date, ends: dt.date | None, day: dt.date) -> bool:
    return starts <= day and (ends is None or day <= ends)


@given(
    in_class=st.lists(spans, max_size=3),
    in_group=st.lists(spans, max_size=3),
    other_group=st.lists(spans, max_size=2),
    day=st.integers(0, 300).map(lambda d: START + dt.timedelta(days=d)),
)
def test_a_group_journal_holds_a_pupil_exactly_when_in_class_and_group(
    in_class, in_group, other_group, day
):
    directory = Directory(
        school=School(id="s", name="Школа"),
        year=YEAR,
        memberships=tuple(
            Membership(student_id="p", class_id="c", starts=a, ends=b) for a, b in in_class
        ),
        group_members=tuple(
            GroupMembership(
                student_id="p", class_id="c", subject_id="en", group_key=key, starts=a, ends=b
            )
            for key, found in (("1", in_group), ("2", other_group))
            for a, b in found
        ),
    )
    found = groups.memberships_of(directory)(GROUP)
    expected = any(_covers(a, b, day) for a, b in in_class) and any(
        _covers(a, b, day) for a, b in in_group
    )
    assert any(m.covers(day) for m in found) == expected
    # the whole class's journal is the class's memberships, groups or not
    whole = groups.memberships_of(directory)(WHOLE)
    assert any(m.covers(day) for m in whole) == any(_covers(a, b, day) for a, b in in_class)


def test_a_group_journal_is_written_by_its_own_teachers_only():
    directory = Directory(
        school=School(id="s", name="Школа"),
        year=YEAR,
        teaching=(
            TeachingAssignment(teacher_id="t1", class_id="c", subject_id="en"),
            TeachingAssignment(teacher_id="t2", class_id="c", subject_id="en"),
            TeachingAssignment(teacher_id="t3", class_id="c", subject_id="math"),
        ),
        groups=(
            StudyGroup(class_id="c", subject_id="en", key="1", name="1", teachers=("t1",)),
            StudyGroup(class_id="c", subject_id="en", key="2", name="2", teachers=("t2",)),
        ),
    )
    teachers = groups.teachers_of(directory)
    assert teachers(GROUP) == frozenset({"t1"})
    assert teachers(WHOLE) == frozenset({"t3"})
