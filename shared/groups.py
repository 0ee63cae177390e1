"""Groups (деление класса на группы): whose journal a group's is, who teaches it and who is in it.

A class split for a subject (English in two groups, technology girls/boys) keeps one journal per
group: its teachers write it, and it holds only the group's pupils, for the days they were in
both the class and the group. The whole class keeps a journal of its own for every subject it
is taught undivided. Both sides call these functions, so rights and rosters cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from shared.model import (
    Directory,
    GroupMembership,
    JournalInfo,
    Membership,
    Student,
    StudyGroup,
    parse_journal_id,
    split_section,
)

GroupKey = tuple[str, str, str]  # (class, subject, group key)


def group_of(directory: Directory, journal: JournalInfo) -> StudyGroup | None:
    if not journal.group:
        return None
    return next(
        (
            g
            for g in directory.groups
            if (g.class_id, g.subject_id, g.key)
            == (journal.class_id, journal.subject_id, journal.group)
        ),
        None,
    )


def teachers_of(directory: Directory) -> Callable[[JournalInfo], frozenset[str]]:
    """The teachers who write each journal (000 §4.5): of the class and subject for a class
    journal, of the group for a group's. Rows are grouped once (a district has thousands)."""
    sets: dict[tuple[str, str], set[str]] = {}
    for t in directory.teaching:
        sets.setdefault((t.class_id, t.subject_id), set()).add(t.teacher_id)
    by_subject = {key: frozenset(value) for key, value in sets.items()}
    by_group: dict[GroupKey, frozenset[str]] = {
        (g.class_id, g.subject_id, g.key): frozenset(g.teachers) for g in directory.groups
    }

    def teachers(journal: JournalInfo) -> frozenset[str]:
        if journal.group:
            return by_group.get((journal.class_id, journal.subject_id, journal.group), frozenset())
        return by_subject.get((journal.class_id, journal.subject_id), frozenset())

    return teachers


def memberships_of(directory: Directory) -> Callable[[JournalInfo], tuple[Membership, ...]]:
    """Each journal's pupils over time, as class memberships: a class journal's are the class's;
    a group's are the days a pupil was both in the class and in the group, so a pupil moved to
    another group mid-year keeps their marks in the old group's journal, up to the move."""
    by_class: dict[str, list[Membership]] = {}
    for m in directory.memberships:
        by_class.setdefault(m.class_id, []).append(m)
    by_group: dict[GroupKey, list[GroupMembership]] = {}
    for g in directory.group_members:
        by_group.setdefault((g.class_id, g.subject_id, g.group_key), []).append(g)

    def memberships(journal: JournalInfo) -> tuple[Membership, ...]:
        in_class = by_class.get(journal.class_id, [])
        if not journal.group:
            return tuple(in_class)
        found = []
        for g in by_group.get((journal.class_id, journal.subject_id, journal.group), ()):
            for m in in_class:
                if m.student_id != g.student_id:
                    continue
                starts = max(m.starts, g.starts)
                ends = _earlier(m.ends, g.ends)
                if ends is None or starts <= ends:
                    found.append(
                        Membership(
                            student_id=m.student_id,
                            class_id=m.class_id,
                            starts=starts,
                            ends=ends,
                        )
                    )
        return tuple(found)

    return memberships


def _earlier(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    if a is None or b is None:
        return a or b
    return min(a, b)


def roster(directory: Directory, journal: JournalInfo, day: dt.date | None = None) -> list[Student]:
    """The pupils of a journal (on a day, or ever), alphabetical as in the paper journal."""
    if not journal.group:
        return directory.class_roster(journal.class_id, day)
    ids = {m.student_id for m in memberships_of(directory)(journal) if day is None or m.covers(day)}
    return [s for s in directory.class_roster(journal.class_id) if s.id in ids]


def group_name(directory: Directory, journal: JournalInfo) -> str:
    """«группа 1» for a group's journal, empty for the whole class's (for titles and pages)."""
    group = group_of(directory, journal)
    if group is None:
        return f"группа {journal.group}" if journal.group else ""
    return f"группа {group.name}"


def section_title(directory: Directory, journal: JournalInfo) -> str:
    """The subject as a journal's title shows it: «Английский язык, группа 1»."""
    subject = next((s.name for s in directory.subjects if s.id == journal.subject_id), None)
    words = [subject or journal.subject_id, group_name(directory, journal)]
    return ", ".join(w for w in words if w)


def attends(directory: Directory, student_id: str) -> Callable[[str, dt.date], bool]:
    """Whether a pupil attends a journal's lessons on a day: in the class (a class journal) or
    in the group (a group's journal) on that day. A journal the directory no longer lists is
    read from its id. For the diary: a pupil of group 2 never sees group 1's lessons."""
    infos = {j.id: j for j in directory.journals}
    members = memberships_of(directory)
    spans: dict[str, list[Membership]] = {}

    def attended(journal_id: str, day: dt.date) -> bool:
        if journal_id not in spans:
            info = infos.get(journal_id)
            if info is None:
                year_id, class_id, section = parse_journal_id(journal_id)
                subject, group = split_section(section)
                info = JournalInfo(
                    id=journal_id,
                    year_id=year_id,
                    class_id=class_id,
                    subject_id=subject,
                    group=group,
                )
            spans[journal_id] = [m for m in members(info) if m.student_id == student_id]
        return any(m.covers(day) for m in spans[journal_id])

    return attended
