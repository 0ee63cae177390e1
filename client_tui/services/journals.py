"""Opening and editing journals locally: every edit is checked by the shared rules and
committed to the local store before it is reported saved. No network here."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence

import msgspec

from client_tui.services.store import CONFLICT, PENDING_STATES, REFUSED, LocalStore
from shared import combined, groups, portfolio
from shared.fold import JournalState, period_cell
from shared.grades import weight_for
from shared.hlc import Clock
from shared.journal import JournalDoc, new_client_id
from shared.model import (
    ADMINISTRATION,
    AttendanceCode,
    AttendanceMarked,
    Directory,
    JournalEvent,
    JournalInfo,
    LessonRecorded,
    MarkGiven,
    MarkKind,
    MarkSpecial,
    PeriodMarkGiven,
    Retracted,
    WorkKind,
    encode_event,
    is_portfolio_id,
)
from shared.rules import (
    JournalContext,
    PortfolioContext,
    RuleViolation,
    check_new_events,
    context_for,
)

SQUASH_AFTER = 200  # updates in a journal's log before an idle moment squashes them
SQUASH_HARD = 5_000  # inside a commit only past this: a keypress must not write the journal


class JournalSummary(msgspec.Struct, frozen=True, kw_only=True):
    info: JournalInfo
    class_name: str
    subject_name: str
    pending: int
    refused: int
    conflicts: int


class JournalBook:
    """The journals of one profile, as Yjs documents cached in memory over the local store."""

    def __init__(
        self,
        store: LocalStore,
        lock: threading.RLock,
        *,
        person_id: str,
        device_id: str,
        directory: Directory | None,
        past: tuple[Directory, ...] = (),
    ):
        self.store = store
        self.lock = lock
        self.person_id = person_id
        self.device_id = device_id
        self.directory = directory
        # the directories of earlier school years this laptop kept journals of: their journals
        # stay listed, read-only, after the next year starts (issue 15)
        self.past = past
        self.clock = Clock(device_id, last=store.get("hlc") or None)
        self._docs: dict[str, JournalDoc] = {}

    # ------------------------------------------------------------------ documents
    def doc(self, journal_id: str) -> JournalDoc:
        """The journal's document, loaded from the store (created empty if new)."""
        with self.lock:
            if journal_id in self._docs:
                return self._docs[journal_id]
            row = self.store.journal_row(journal_id)
            if row is None:
                client_id = new_client_id()
                with self.store.transaction():
                    self.store.put_journal(journal_id, client_id, b"\x00")
                doc = JournalDoc(client_id=client_id)
            else:
                doc = JournalDoc(client_id=row["client_id"])
                for update in self.store.doc_updates(journal_id):
                    doc.apply(update)
            self._docs[journal_id] = doc
            return doc

    def forget(self, journal_id: str | None = None) -> None:
        """Drop cached documents so the next use reloads them from the store."""
        with self.lock:
            if journal_id is None:
                self._docs.clear()
            else:
                self._docs.pop(journal_id, None)

    def info(self, journal_id: str) -> JournalInfo:
        if self.directory is not None:
            if is_portfolio_id(journal_id) and journal_id in self.portfolios():
                return self.portfolios()[journal_id]
            for journal in self.directory.journals:
                if journal.id == journal_id:
                    return journal
        for directory in self.past:
            for journal in directory.journals:
                if journal.id == journal_id:
                    return msgspec.structs.replace(journal, writable=False)
        raise KeyError(f"журнал {journal_id} не найден в справочнике")

    def directory_of(self, journal_id: str) -> Directory | None:
        """The directory of the journal's school year: the current one, or an earlier year's
        whose journals this laptop keeps read-only."""
        current = self.directory
        if current is None or any(j.id == journal_id for j in current.journals):
            return current
        for directory in self.past:
            if any(j.id == journal_id for j in directory.journals):
                return directory
        return current

    def portfolios(self) -> dict[str, JournalInfo]:
        """The class portfolio documents this person keeps (shared.portfolio.documents_for):
        synced like journals, never listed among them."""
        if self.directory is None:
            return {}
        me = next((s for s in self.directory.staff if s.id == self.person_id), None)
        admin = me is not None and bool(ADMINISTRATION.intersection(me.roles))
        return portfolio.documents_for(self.directory, self.person_id, administration=admin)

    def context(self, journal_id: str) -> JournalContext | PortfolioContext:
        return context_for(self.directory_of(journal_id), self.info(journal_id))

    def state(self, journal_id: str) -> JournalState:
        """The folded journal, kept up to date by its document (see JournalDoc.state): a
        keypress folds only its own entries."""
        with self.lock:
            return self.doc(journal_id).state()

    def summaries(self) -> list[JournalSummary]:
        if self.directory is None:
            return []
        classes = {c.id: c.name for c in self.directory.classes}
        subjects = {s.id: s.name for s in self.directory.subjects}
        counts: dict[tuple[str, str], int] = {}
        for row in self.store.conn.execute(
            "SELECT journal_id, state, count(*) AS n FROM outbox GROUP BY journal_id, state"
        ):
            counts[(row["journal_id"], row["state"])] = row["n"]
        return [
            JournalSummary(
                info=j,
                class_name=classes.get(j.class_id, j.class_id),
                subject_name=groups.section_title(self.directory, j),
                pending=sum(counts.get((j.id, s), 0) for s in PENDING_STATES),
                refused=counts.get((j.id, REFUSED), 0),
                conflicts=counts.get((j.id, CONFLICT), 0),
            )
            for j in sorted(
                self.directory.journals,
                key=lambda j: (
                    not j.writable,
                    classes.get(j.class_id, ""),
                    subjects.get(j.subject_id, ""),
                ),
            )
        ] + self._past_summaries(counts)

    def _past_summaries(self, counts: dict[tuple[str, str], int]) -> list[JournalSummary]:
        """Earlier years' journals this laptop holds, read-only, after the current year's."""
        found = []
        for directory in self.past:
            classes = {c.id: c.name for c in directory.classes}
            for j in directory.journals:
                if self.store.journal_row(j.id) is None:
                    continue
                found.append(
                    JournalSummary(
                        info=msgspec.structs.replace(j, writable=False),
                        class_name=f"{classes.get(j.class_id, j.class_id)} ({directory.year.name})",
                        subject_name=groups.section_title(directory, j),
                        pending=sum(counts.get((j.id, s), 0) for s in PENDING_STATES),
                        refused=counts.get((j.id, REFUSED), 0),
                        conflicts=counts.get((j.id, CONFLICT), 0),
                    )
                )
        return found

    # ------------------------------------------------------------------ editing
    def commit(
        self,
        journal_id: str,
        events: Iterable[JournalEvent],
        also: Callable[[], None] | None = None,
    ) -> list[JournalEvent]:
        """Check events against the rules and commit them; raises RuleViolation, stores nothing.

        The document is changed in memory and committed to the store under one lock, so the
        sync engine never sends an entry that is not durably saved. `also` writes more to the
        store in the same transaction (an achievement's proof document).
        """
        events = list(events)
        with self.lock:
            self.check(journal_id, events)
            doc = self.doc(journal_id)
            try:
                update = doc.add(events)
                with self.store.transaction():
                    count = self.store.append_doc_update(journal_id, update)
                    for event in events:
                        self.store.add_outbox(event.id, journal_id, encode_event(event))
                    self.store.put("hlc", self.clock.last)
                    if also is not None:
                        also()
                    if count > SQUASH_HARD:  # never idle (a script typing for hours)
                        self.store.replace_doc(journal_id, doc.snapshot())
            except BaseException:
                self.forget(journal_id)  # the memory copy may hold what the disk does not
                raise
        return events

    def check(self, journal_id: str, events: list[JournalEvent]) -> None:
        """Raise the first RuleViolation the events would meet in this journal; store nothing."""
        with self.lock:
            earlier = self.directory_of(journal_id)
            if earlier is not None and earlier is not self.directory:
                raise RuleViolation(
                    "author_may_write",
                    f"Журнал {earlier.year.name} учебного года: год окончен, журнал доступен "
                    "только для чтения.",
                )
            if not self.info(journal_id).writable:
                raise RuleViolation(
                    "author_may_write",
                    "Журнал доступен только для чтения: вы не ведёте этот предмет в этом классе.",
                )
            violations = check_new_events(
                self.doc(journal_id).state(), events, self.context(journal_id)
            )
            if violations:
                raise violations[0]

    def compact(self) -> int:
        """Squash each open journal's update log into one snapshot once it passes
        SQUASH_AFTER; called when the teacher pauses (and when a session closes), never inside
        a keypress: writing a year's snapshot took 20–290 ms. Returns the journals squashed."""
        squashed = 0
        with self.lock:
            for journal_id, doc in list(self._docs.items()):
                if self.store.doc_update_count(journal_id) <= SQUASH_AFTER:
                    continue
                with self.store.transaction():
                    self.store.replace_doc(journal_id, doc.snapshot())
                squashed += 1
        return squashed

    def stamp(self, supersedes: Iterable[JournalEvent] = ()) -> dict:
        """A new event's id, author, device and HLC stamp (after everything it supersedes)."""
        return self._stamp(supersedes)

    def _stamp(self, supersedes: Iterable[JournalEvent] = ()) -> dict:
        for old in supersedes:
            self.clock.observe(old.hlc)
        return {
            "id": uuid.uuid4().hex,
            "author": self.person_id,
            "device": self.device_id,
            "hlc": self.clock.tick(),
        }

    def _live(self, journal_id: str, key: tuple[str, ...]) -> list[JournalEvent]:
        cell = self.state(journal_id).cells.get(key)
        return list(cell.live) if cell else []

    # ------------------------------------------------------------------ new entries
    # The *_event methods build an entry superseding what its cell holds now, without
    # committing it (the grid's editor commits several as one action); the others build and
    # commit one entry, or a column.

    def _superseding(self, journal_id: str, key: tuple[str, ...]) -> dict:
        live = self._live(journal_id, key)
        return self._stamp(live) | {"supersedes": tuple(e.id for e in live)}

    def lesson_event(
        self,
        journal_id: str,
        *,
        date: dt.date,
        topic: str = "",
        homework: str = "",
        work_kind: WorkKind = WorkKind.REGULAR,
        slot: int = 1,
        lesson_id: str | None = None,
        reason: str = "",
    ) -> LessonRecorded:
        """A new lesson, or (with lesson_id) the corrected record of an existing one."""
        lesson_id = lesson_id or f"L{uuid.uuid4().hex[:16]}"
        with self.lock:
            return LessonRecorded(
                **self._superseding(journal_id, ("lesson", lesson_id)),
                lesson_id=lesson_id,
                date=date,
                slot=slot,
                topic=topic,
                homework=homework,
                work_kind=work_kind,
                reason=reason,
            )

    def attendance_event(
        self,
        journal_id: str,
        lesson_id: str,
        student_id: str,
        code: AttendanceCode,
        reason: str = "",
    ) -> AttendanceMarked:
        with self.lock:
            return AttendanceMarked(
                **self._superseding(journal_id, ("attendance", lesson_id, student_id)),
                lesson_id=lesson_id,
                student_id=student_id,
                code=code,
                reason=reason,
            )

    def mark_event(
        self,
        journal_id: str,
        lesson_id: str,
        student_id: str,
        value: int,
        *,
        slot: int = 0,
        work_kind: WorkKind | None = None,
        weight: int | None = None,
        reason: str = "",
        modifier: str = "",
        special: MarkSpecial = MarkSpecial.NONE,
    ) -> MarkGiven:
        """A mark; the kind of work is the lesson's unless given, the weight the school's for
        that kind of work unless given (shared.grades.weight_for: the grid and the CLI agree)."""
        with self.lock:
            lesson = self.state(journal_id).lesson(lesson_id)
            kind = work_kind or (lesson.work_kind if lesson else WorkKind.REGULAR)
            table = self.directory.weights if self.directory is not None else ()
            return MarkGiven(
                **self._superseding(journal_id, ("mark", lesson_id, student_id, str(slot))),
                lesson_id=lesson_id,
                student_id=student_id,
                value=value,
                slot=slot,
                work_kind=kind,
                weight=weight if weight is not None else weight_for(kind, table),
                reason=reason,
                modifier=modifier,  # type: ignore[arg-type]
                special=special,
            )

    def period_mark_event(
        self,
        journal_id: str,
        period_id: str,
        student_id: str,
        value: int,
        *,
        mark_kind: MarkKind = MarkKind.PERIOD,
        reason: str = "",
        topic: str = "",
        **special,
    ) -> PeriodMarkGiven:
        """A mark beside the lessons: period, year, exam, final or thematic (`topic`);
        `special` fields (special, na_reason, document, exempt_from, exempt_to) for «н/а»,
        «осв.», зач/незач."""
        with self.lock:
            key = period_cell(period_id, student_id, mark_kind, topic)
            return PeriodMarkGiven(
                **self._superseding(journal_id, key),
                period_id=period_id,
                student_id=student_id,
                value=value,
                mark_kind=mark_kind,
                reason=reason,
                topic=topic,
                **special,
            )

    def retraction_event(self, journal_id: str, event_id: str, reason: str = "") -> Retracted:
        """Empties a cell: supersedes every live entry of the cell that holds `event_id`."""
        with self.lock:
            key = self.state(journal_id).cell_of.get(event_id)
            if key is None:
                raise RuleViolation("correction_targets_its_cell", "Запись не найдена.")
            return Retracted(**self._superseding(journal_id, key), reason=reason)

    def record_lesson(self, journal_id: str, **fields) -> LessonRecorded:
        """Record a new lesson, or (with lesson_id) correct an existing lesson's record;
        `fields` as for `lesson_event`. In a класс-комплект the lesson goes into every class's
        journal (`lesson_journals`); the one of `journal_id` is returned."""
        with self.lock:
            journals = self.lesson_journals(journal_id, fields.get("lesson_id"))
            if len(journals) > 1:
                return self.record_combined_lesson(journals, **fields)[0]
            return self.commit(journal_id, [self.lesson_event(journal_id, **fields)])[0]

    def lesson_journals(self, journal_id: str, lesson_id: str | None = None) -> list[str]:
        """Where a lesson typed in `journal_id` is written: with the other classes of its
        класс-комплект (shared.combined) that this teacher writes; a correction only where
        the lesson already is (one recorded before the classes were combined stays alone)."""
        if self.directory is None:
            return [journal_id]
        found = [journal_id]
        for other in combined.partners(self.directory, self.info(journal_id))[1:]:
            if not other.writable:
                continue
            if lesson_id is None or self.state(other.id).lesson(lesson_id) is not None:
                found.append(other.id)
        return found

    def record_combined_lesson(self, journal_ids: Sequence[str], **fields) -> list[LessonRecorded]:
        """Класс-комплект: one lesson (or its correction, with lesson_id) written into each
        class's journal under one lesson id (shared.combined). Every journal is checked before
        any is written, so a lesson refused in one class is written in none."""
        fields["lesson_id"] = fields.get("lesson_id") or f"L{uuid.uuid4().hex[:16]}"
        with self.lock:
            planned = [(j, [self.lesson_event(j, **fields)]) for j in journal_ids]
            for journal_id, events in planned:
                self.check(journal_id, events)
            return [self.commit(journal_id, events)[0] for journal_id, events in planned]

    def mark_attendance(
        self,
        journal_id: str,
        lesson_id: str,
        student_ids: Iterable[str],
        code: AttendanceCode,
        reason: str = "",
    ) -> list[AttendanceMarked]:
        """Attendance for one or many pupils of a lesson (a whole column at once)."""
        with self.lock:
            events = [
                self.attendance_event(journal_id, lesson_id, student_id, code, reason)
                for student_id in student_ids
            ]
            return self.commit(journal_id, events)

    def give_mark(
        self, journal_id: str, lesson_id: str, student_id: str, value: int, **fields
    ) -> MarkGiven:
        """Give a mark; `fields` (slot, work_kind, weight, reason) as for `mark_event`."""
        with self.lock:
            event = self.mark_event(journal_id, lesson_id, student_id, value, **fields)
            return self.commit(journal_id, [event])[0]

    def give_period_mark(
        self, journal_id: str, period_id: str, student_id: str, value: int, **fields
    ) -> PeriodMarkGiven:
        """Give a period mark; `fields` (mark_kind, reason) as for `period_mark_event`."""
        with self.lock:
            event = self.period_mark_event(journal_id, period_id, student_id, value, **fields)
            return self.commit(journal_id, [event])[0]

    def retract(self, journal_id: str, event_id: str, reason: str = "") -> Retracted:
        """Empty a cell: supersedes every live entry of the cell that holds `event_id`."""
        with self.lock:
            event = self.retraction_event(journal_id, event_id, reason)
            return self.commit(journal_id, [event])[0]
