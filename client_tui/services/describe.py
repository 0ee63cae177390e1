"""Plain-Russian descriptions of journal entries, for the conflicts and refusals screen."""

from __future__ import annotations

import time

import msgspec

from client_tui.services.grid import ATTENDANCE_RU, WORK_KINDS_RU
from client_tui.services.store import CONFLICT, REFUSED, OutboxEntry
from shared import groups
from shared.fold import JournalState
from shared.model import (
    ACHIEVEMENT_KIND_RU,
    AchievementRecorded,
    AttendanceMarked,
    Directory,
    JournalEvent,
    LessonRecorded,
    MarkGiven,
    PeriodMarkGiven,
    Retracted,
    decode_event,
    is_portfolio_id,
    parse_journal_id,
)

WHAT_TO_DO = {
    REFUSED: "Запись не учтена. Исправьте её в журнале (или обратитесь к заместителю директора).",
    CONFLICT: "Показано значение с более поздним временем. Если верно ваше, поставьте его ещё раз.",
}


class EntryView(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    journal: str  # «5 · Математика»
    when: str  # when it was typed
    what: str  # «Алексеев А. 05.10: отметка 5»
    state: str  # «отклонено» / «конфликт»
    why: str
    todo: str


def journal_title(directory: Directory | None, journal_id: str) -> str:
    try:
        _, class_id, subject_id = parse_journal_id(journal_id)
    except ValueError:
        return journal_id
    if directory is None:
        return journal_id
    classes = {c.id: c.name for c in directory.classes}
    subjects = {s.id: s.name for s in directory.subjects}
    if is_portfolio_id(journal_id):
        return f"{classes.get(class_id, class_id)} · Портфолио"
    info = next((j for j in directory.journals if j.id == journal_id), None)
    if info is not None:
        return f"{classes.get(class_id, class_id)} · {groups.section_title(directory, info)}"
    return f"{classes.get(class_id, class_id)} · {subjects.get(subject_id, subject_id)}"


def describe_event(event: JournalEvent, directory: Directory | None, state: JournalState) -> str:
    names = {s.id: s.short_name for s in directory.students} if directory else {}

    def on_lesson(lesson_id: str) -> str:
        lesson = state.lesson(lesson_id)
        return f"урок {lesson.date:%d.%m}" if lesson else "урок"

    match event:
        case MarkGiven():
            return (
                f"{names.get(event.student_id, event.student_id)}, {on_lesson(event.lesson_id)}: "
                f"отметка {event.value} ({WORK_KINDS_RU[event.work_kind]}, вес {event.weight})"
            )
        case AttendanceMarked():
            return (
                f"{names.get(event.student_id, event.student_id)}, {on_lesson(event.lesson_id)}: "
                f"{ATTENDANCE_RU[event.code]}"
            )
        case PeriodMarkGiven():
            periods = {p.id: p.name for p in directory.periods} if directory else {}
            return (
                f"{names.get(event.student_id, event.student_id)}: отметка {event.value} "
                f"за «{periods.get(event.period_id, event.period_id)}»"
            )
        case AchievementRecorded():
            return (
                f"{names.get(event.student_id, event.student_id)}: достижение «{event.title}» "
                f"({ACHIEVEMENT_KIND_RU[event.achievement_kind]}, {event.date:%d.%m.%Y})"
            )
        case LessonRecorded():
            return f"урок {event.date:%d.%m.%Y}: «{event.topic or 'без темы'}»"
        case Retracted():
            targets = [state.events[t] for t in event.supersedes if t in state.events]
            inner = describe_event(targets[0], directory, state) if targets else "запись"
            return f"отмена: {inner}"
    return event.id


def describe_entry(
    entry: OutboxEntry, directory: Directory | None, state: JournalState | None
) -> EntryView:
    try:
        event = decode_event(entry.body)
        what = describe_event(event, directory, state) if state is not None else entry.body
    except (msgspec.ValidationError, msgspec.DecodeError):
        what = entry.body[:200]
    return EntryView(
        event_id=entry.event_id,
        journal=journal_title(directory, entry.journal_id),
        when=time.strftime("%d.%m.%Y %H:%M", time.localtime(entry.created_at)),
        what=what,
        state={REFUSED: "отклонено", CONFLICT: "конфликт"}.get(entry.state, entry.state),
        why=entry.message or "—",
        todo=WHAT_TO_DO.get(entry.state, ""),
    )
