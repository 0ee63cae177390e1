"""Класс-комплект: pupils of two or more grades taught one subject together by one teacher in
one lesson (small rural schools). Each class keeps its own journal for the subject, as on paper;
the lesson is entered once and written into each class's journal under one lesson id, with the
same date, topic and homework, and each pupil's attendance and marks go to their own class's
journal. No new event kind: every journal stays a self-contained document that older laptops,
the rules and the sync read as before."""

from __future__ import annotations

from shared.model import Directory, JournalInfo


def partners(directory: Directory, journal: JournalInfo) -> tuple[JournalInfo, ...]:
    """The journals one lesson of `journal` is written into: the subject's journal of every
    class of its combined set that the directory lists, `journal` first; just `journal` when
    its class is not combined for the subject (or it is a group's journal)."""
    if journal.group:
        return (journal,)
    together = next(
        (
            c.class_ids
            for c in directory.combined
            if c.subject_id == journal.subject_id and journal.class_id in c.class_ids
        ),
        (),
    )
    others = [
        j
        for j in directory.journals
        if j.class_id in together
        and j.class_id != journal.class_id
        and j.subject_id == journal.subject_id
        and not j.group
    ]
    grades = {c.id: (c.grade, c.letter) for c in directory.classes}
    return (journal, *sorted(others, key=lambda j: grades.get(j.class_id, (99, ""))))
