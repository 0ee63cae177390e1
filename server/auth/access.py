"""Who may read and write which journal (000 §4.5, §5.5): the one place that decides."""

from __future__ import annotations

import msgspec

from server.auth.principal import Principal
from shared import groups, portfolio
from shared.model import ADMINISTRATION, Directory, JournalInfo, Role


def journals_for(principal: Principal, directory: Directory) -> dict[str, JournalInfo]:
    """The journals a person may open, each marked writable or read-only.

    Teachers write the classes and subjects they teach (a group's journal: its teachers only,
    shared.groups); a class teacher reads every subject and group of their class without
    editing; the administration keeps every journal; the records officer reads them for the
    archive. Parents and students read diaries, never whole-class journals.
    """
    person = principal.person_id
    admin = any(r in ADMINISTRATION for r in principal.roles)
    reads_all = admin or principal.has(Role.RECORDS_OFFICER)
    teacher = principal.has(Role.TEACHER)  # once, not per journal: a district has thousands
    teachers = groups.teachers_of(directory)
    own_classes = {c.class_id for c in directory.class_teachers if c.teacher_id == person}
    result: dict[str, JournalInfo] = {}
    for journal in directory.journals:
        writes = admin or (teacher and person in teachers(journal))
        reads = reads_all or writes or (teacher and journal.class_id in own_classes)
        if reads:
            result[journal.id] = msgspec.structs.replace(journal, writable=writes)
    return result


def portfolios_for(principal: Principal, directory: Directory) -> dict[str, JournalInfo]:
    """The class portfolio documents a person keeps (000 §5.5, 003 §3.3.3): the class teacher
    and the teachers of a class, the administration every class. Nobody else receives them:
    parents and pupils see the consolidated portfolio of their own child on the web."""
    admin = principal.is_administration
    if not admin and not principal.has(Role.TEACHER):
        return {}
    return portfolio.documents_for(directory, principal.person_id, administration=admin)


def may_see_student_portfolio(principal: Principal, directory: Directory, student_id: str) -> bool:
    """Staff who may see a pupil's portfolio: the administration and the records officer, and
    the teachers who keep the portfolio of a class the pupil belongs to. (Families: see
    server/attachments/controller.py, by their link to the child.)

    `directory` is the principal's own school's (server/web/people.directory_of): a pupil
    who is not in it is no one's to see here, whatever the role, as on the pages."""
    if not any(s.id == student_id for s in directory.students):
        return False
    if principal.is_administration or principal.has(Role.RECORDS_OFFICER):
        return True
    if not principal.has(Role.TEACHER):
        return False
    classes = {m.class_id for m in directory.memberships if m.student_id == student_id}
    return any(principal.person_id in portfolio.writers(directory, c) for c in classes)
