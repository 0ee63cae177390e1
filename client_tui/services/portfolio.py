"""Pupils' achievements entered on the laptop, offline if need be (000 §4.2.1, 003 §3).

An achievement is an entry in the class's portfolio document (shared.portfolio), committed
like a journal entry (rules checked, saved before it is reported saved) and synced with the
journals. Its proof document is kept in the local store and sent after the entry, in chunks,
resuming from what the server holds when the link cuts (see `upload_pending`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from client_tui.services.api import RequestRefused, ServerApi, TemporaryFailure
from client_tui.services.journals import JournalBook
from client_tui.services.store import ACCEPTED
from client_tui.services.store import REFUSED as ENTRY_REFUSED
from shared.model import (
    ACHIEVEMENT_KIND_RU,
    ACHIEVEMENT_LEVEL_RU,
    ACHIEVEMENT_RESULT_RU,
    AchievementKind,
    AchievementLevel,
    AchievementRecorded,
    AchievementResult,
    Attachment,
    Retracted,
    SchoolClass,
    Student,
    portfolio_id,
)
from shared.portfolio import EXTENSIONS, MAX_ATTACHMENT_BYTES, content_problem
from shared.rules import RuleViolation

CHUNK_BYTES = 64 * 1024
WAITING, UPLOADED, REFUSED = "waiting", "uploaded", "refused"
ATTACHMENT_STATE_RU = {WAITING: "ждёт отправки", UPLOADED: "на сервере", REFUSED: "не принят"}


class AchievementForm(msgspec.Struct, kw_only=True):
    """What the teacher fills in; the file is read and checked when the entry is committed."""

    student_id: str
    kind: AchievementKind
    title: str
    date: dt.date
    area: str = ""
    level: AchievementLevel = AchievementLevel.SCHOOL
    result: AchievementResult = AchievementResult.PARTICIPANT
    organiser: str = ""
    external: bool = False
    family_consent: bool = False
    file: str = ""  # path of the diploma scan on this laptop, or ""


class AchievementView(msgspec.Struct, frozen=True, kw_only=True):
    """One achievement as the list shows it (Russian labels)."""

    achievement_id: str
    event_id: str
    class_name: str
    pupil: str
    date: dt.date
    kind: str
    title: str
    area: str
    level: str
    result: str
    organiser: str
    external: bool
    document: str  # «диплом.pdf — на сервере» / «нет»
    state: str  # the entry's outbox state in Russian, or «принято»


def read_attachment(path: str) -> tuple[Attachment, bytes]:
    """The proof document at `path`, checked as the server will check it (type by content,
    size): a bad file is refused at the keyboard, before anything is stored."""
    file = Path(path).expanduser()
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise RuleViolation("attachment_acceptable", f"Файл не найден: {file}.") from exc
    if size == 0:
        raise RuleViolation("attachment_acceptable", "Файл пуст.")
    if size > MAX_ATTACHMENT_BYTES:
        raise RuleViolation(
            "attachment_acceptable", "Файл больше 10 МБ: приложите скан меньшего размера."
        )
    media_type = EXTENSIONS.get(file.suffix.lower())
    if media_type is None:
        raise RuleViolation(
            "attachment_acceptable", "Документ должен быть в формате PDF, PNG или JPEG."
        )
    body = file.read_bytes()
    problem = content_problem(body, media_type)
    if problem is not None:
        raise RuleViolation("attachment_acceptable", problem)
    attachment = Attachment(
        sha256=hashlib.sha256(body).hexdigest(),
        name=file.name[:200],
        media_type=media_type,
        size=len(body),
    )
    return attachment, body


class Portfolio:
    """The class portfolios this person keeps, over the journal book (same store, lock, clock)."""

    def __init__(self, book: JournalBook):
        self.book = book

    @property
    def directory(self):
        if self.book.directory is None:
            raise KeyError("Справочник не загружен: войдите в систему.")
        return self.book.directory

    def classes(self) -> list[SchoolClass]:
        kept = {info.class_id for info in self.book.portfolios().values()}
        found = [c for c in self.directory.classes if c.id in kept]
        return sorted(found, key=lambda c: (c.grade, c.letter))

    def find_class(self, name_or_id: str) -> SchoolClass:
        for school_class in self.classes():
            if name_or_id in (school_class.id, school_class.name):
                return school_class
        raise RuleViolation(
            "portfolio_author_may_write",
            f"Класс «{name_or_id}» не найден среди классов, чьё портфолио вы ведёте.",
        )

    def document_id(self, class_id: str) -> str:
        school_class = next(c for c in self.directory.classes if c.id == class_id)
        return portfolio_id(school_class.year_id, class_id)

    def pupils(self, class_id: str) -> list[Student]:
        return self.directory.class_roster(class_id)

    # ------------------------------------------------------------------ entering
    def add(
        self,
        class_id: str,
        form: AchievementForm,
        *,
        achievement_id: str | None = None,
        reason: str = "",
    ) -> AchievementRecorded:
        """Record an achievement (or, with `achievement_id`, correct one); raises RuleViolation
        with a Russian message and stores nothing when a rule or the file says no."""
        attachment, body = read_attachment(form.file) if form.file else (None, b"")
        doc_id = self.document_id(class_id)
        correcting = achievement_id is not None
        achievement_id = achievement_id or f"A{uuid.uuid4().hex[:16]}"
        book = self.book
        with book.lock:
            if attachment is None and correcting:
                current = book.state(doc_id).value(("achievement", achievement_id))
                if isinstance(current, AchievementRecorded):
                    attachment = current.attachment  # a correction keeps its document
            event = AchievementRecorded(
                **book._superseding(doc_id, ("achievement", achievement_id)),
                achievement_id=achievement_id,
                student_id=form.student_id,
                achievement_kind=form.kind,
                title=form.title.strip(),
                area=form.area.strip(),
                level=form.level,
                result=form.result,
                date=form.date,
                organiser=form.organiser.strip(),
                external=form.external,
                family_consent=form.family_consent,
                attachment=attachment,
                reason=reason,
            )

            def keep_file() -> None:
                if body:
                    book.store.add_attachment(
                        attachment.sha256,
                        event_id=event.id,
                        journal_id=doc_id,
                        name=attachment.name,
                        media_type=attachment.media_type,
                        body=body,
                    )

            return book.commit(doc_id, [event], also=keep_file)[0]

    def retract(self, class_id: str, achievement_id: str, reason: str = "") -> Retracted:
        """Take an achievement out of the portfolio (the history keeps it)."""
        doc_id = self.document_id(class_id)
        with self.book.lock:
            current = self.book.state(doc_id).value(("achievement", achievement_id))
            if current is None:
                raise RuleViolation("correction_targets_its_cell", "Достижение не найдено.")
            return self.book.retract(doc_id, current.id, reason)

    # ------------------------------------------------------------------ reading
    def achievements(self, class_id: str | None = None) -> list[AchievementView]:
        """Current achievements of the classes kept (or of one), newest first."""
        classes = [c for c in self.classes() if class_id is None or c.id == class_id]
        names = {s.id: s.short_name for s in self.directory.students}
        with self.book.lock:
            files = {r["sha256"]: r for r in self.book.store.attachments()}
            outbox = {e.event_id: e.state for e in self.book.store.outbox()}
            views = []
            for school_class in classes:
                state = self.book.state(self.document_id(school_class.id))
                for event in state.achievements():
                    views.append(self._view(event, school_class, names, files, outbox))
        return sorted(views, key=lambda v: (v.date, v.achievement_id), reverse=True)

    @staticmethod
    def _view(event, school_class, names, files, outbox) -> AchievementView:
        document = "нет"
        if event.attachment is not None:
            row = files.get(event.attachment.sha256)
            if row is None:
                progress = "на сервере"
            elif row["state"] == WAITING and row["sent"]:
                progress = f"отправлено {row['sent'] * 100 // max(row['size'], 1)} %"
            else:
                progress = ATTACHMENT_STATE_RU.get(row["state"], row["state"])
                if row["message"]:
                    progress += f": {row['message']}"
            document = f"{event.attachment.name} — {progress}"
        entry_state = {
            "waiting": "ждёт синхронизации",
            "sent": "отправлено",
            "accepted": "принято",
            "refused": "отклонено",
            "conflict": "конфликт",
        }.get(outbox.get(event.id, ""), "принято")
        return AchievementView(
            achievement_id=event.achievement_id,
            event_id=event.id,
            class_name=school_class.name,
            pupil=names.get(event.student_id, event.student_id),
            date=event.date,
            kind=ACHIEVEMENT_KIND_RU[event.achievement_kind],
            title=event.title,
            area=event.area,
            level=ACHIEVEMENT_LEVEL_RU[event.level],
            result=ACHIEVEMENT_RESULT_RU[event.result],
            organiser=event.organiser,
            external=event.external,
            document=document,
            state=entry_state,
        )


# ---------------------------------------------------------------------- uploading


@dataclass
class UploadReport:
    uploaded: int = 0  # files the server now holds whole
    bytes_sent: int = 0
    waiting: int = 0  # files left for a later sync (entry not yet accepted, link cut)
    refused: list[str] = field(default_factory=list)  # Russian reasons


def upload_pending(book: JournalBook, api: ServerApi, *, chunk: int = CHUNK_BYTES) -> UploadReport:
    """Send every kept proof document whose achievement entry the server has accepted, each
    from the offset the server holds (so a cut link resumes, never restarts). Raises
    TemporaryFailure when the link fails: what was sent stays sent."""
    report = UploadReport()
    store = book.store
    with book.lock:
        rows = store.attachments([WAITING])
        states = {e.event_id: e for e in store.outbox()}
    for row in rows:
        sha = row["sha256"]
        entry = states.get(row["event_id"])
        if entry is not None and entry.state == ENTRY_REFUSED:
            # the server refused the entry, so it will not take the file: kept here, and said
            message = f"запись о достижении отклонена ({entry.message}); файл сохранён на ноутбуке"
            with book.lock, store.transaction():
                store.set_attachment(sha, sent=0, state=REFUSED, message=message)
            report.refused.append(f"{row['name']}: {message}")
            continue
        if entry is not None and entry.state != ACCEPTED:
            report.waiting += 1  # the server must have the entry first
            continue
        try:
            sent = _upload_one(book, api, row, chunk, report)
        except RequestRefused as exc:
            with book.lock, store.transaction():
                store.set_attachment(sha, sent=0, state=REFUSED, message=exc.message_ru)
            report.refused.append(f"{row['name']}: {exc.message_ru}")
            continue
        except TemporaryFailure:
            report.waiting += 1
            raise
        if sent:
            report.uploaded += 1
    return report


def _upload_one(book: JournalBook, api: ServerApi, row, chunk: int, report: UploadReport) -> bool:
    sha, size, media_type = row["sha256"], row["size"], row["media_type"]
    store = book.store
    offset, complete = api.attachment_progress(sha)
    mismatches = 0
    while not complete:
        with book.lock:
            part = store.attachment_body(sha, offset, chunk)
        if not part:
            raise RequestRefused("Файл в локальном хранилище повреждён.")
        answer = api.put_attachment(sha, offset, part, size, media_type)
        if answer is None:  # the server holds another amount: ask where to go on
            mismatches += 1
            if mismatches > 3:
                raise TemporaryFailure("Сервер и ноутбук расходятся в том, сколько отправлено.")
            offset, complete = api.attachment_progress(sha)
            continue
        report.bytes_sent += len(part)
        offset, complete = answer
        with book.lock, store.transaction():
            store.set_attachment(sha, sent=offset, state=UPLOADED if complete else WAITING)
    with book.lock, store.transaction():
        store.set_attachment(sha, sent=size, state=UPLOADED)
    return True
