"""The portfolio of achievements: who keeps which class's portfolio document, what a proof
document may be, and how an entry becomes the consolidated row (000 §4.2.1, 003 §3).

One CRDT document per (school year, class), synced like a journal (see docs/DESIGN.md). Both
sides compute the same documents from the directory: the server to decide access, the laptop
to know what to sync.
"""

from __future__ import annotations

from shared.model import (
    ADMINISTRATION,
    PORTFOLIO_SUBJECT,
    Achievement,
    AchievementRecorded,
    Directory,
    JournalInfo,
    portfolio_id,
)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# media type -> what the file must begin with (its magic bytes) and the name the teacher sees
ATTACHMENT_TYPES: dict[str, tuple[bytes, str]] = {
    "application/pdf": (b"%PDF-", "PDF"),
    "image/png": (b"\x89PNG\r\n\x1a\n", "PNG"),
    "image/jpeg": (b"\xff\xd8\xff", "JPEG"),
}
EXTENSIONS = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg"}
EXTENSIONS[".jpeg"] = "image/jpeg"


def sniff_media_type(head: bytes) -> str | None:
    """The media type the file's first bytes show, or None if it is none we accept."""
    for media_type, (magic, _) in ATTACHMENT_TYPES.items():
        if head.startswith(magic):
            return media_type
    return None


def content_problem(body: bytes, media_type: str) -> str | None:
    """Why a received file is not an acceptable proof document (Russian), or None."""
    if len(body) > MAX_ATTACHMENT_BYTES:
        return "Файл больше 10 МБ: приложите скан меньшего размера."
    found = sniff_media_type(body[:16])
    if found is None:
        return (
            "Файл не является документом PDF или изображением PNG/JPEG "
            "(содержимое не совпадает с расширением): файл не принят."
        )
    if found != media_type:
        return (
            f"Содержимое файла — {ATTACHMENT_TYPES[found][1]}, а заявлен "
            f"{ATTACHMENT_TYPES.get(media_type, (b'', media_type))[1]}: файл не принят."
        )
    return None


def writers(directory: Directory, class_id: str) -> frozenset[str]:
    """Who keeps a class's portfolio: its class teacher, the teachers who teach the class and
    the administration (000 §5.5, 003 §3.3.3–3.3.5)."""
    teachers = {t.teacher_id for t in directory.teaching if t.class_id == class_id}
    class_teachers = {c.teacher_id for c in directory.class_teachers if c.class_id == class_id}
    admins = {s.id for s in directory.staff if ADMINISTRATION.intersection(s.roles)}
    return frozenset(teachers | class_teachers | admins)


def info(directory: Directory, class_id: str, *, writable: bool) -> JournalInfo:
    """The portfolio document of a class, described as the sync machinery needs it."""
    school_class = next(c for c in directory.classes if c.id == class_id)
    return JournalInfo(
        id=portfolio_id(school_class.year_id, class_id),
        year_id=school_class.year_id,
        class_id=class_id,
        subject_id=PORTFOLIO_SUBJECT,
        writable=writable,
    )


def documents_for(
    directory: Directory, person_id: str, *, administration: bool
) -> dict[str, JournalInfo]:
    """The portfolio documents a person keeps: the administration every class's, a teacher
    those of the classes they teach or lead. Parents and pupils keep none (they see the
    consolidated portfolio on the web). One pass over the directory: it runs on every sync
    request, and a district's directory has thousands of classes and teaching rows."""
    administration = administration or any(
        s.id == person_id and ADMINISTRATION.intersection(s.roles) for s in directory.staff
    )
    kept = {t.class_id for t in directory.teaching if t.teacher_id == person_id} | {
        c.class_id for c in directory.class_teachers if c.teacher_id == person_id
    }
    result = {}
    for school_class in directory.classes:
        if administration or school_class.id in kept:
            document = JournalInfo(
                id=portfolio_id(school_class.year_id, school_class.id),
                year_id=school_class.year_id,
                class_id=school_class.id,
                subject_id=PORTFOLIO_SUBJECT,
                writable=True,
            )
            result[document.id] = document
    return result


def as_row(event: AchievementRecorded, year_id: str) -> Achievement:
    """The consolidated row (the portfolio's `achievements` table) of a current entry."""
    return Achievement(
        id=event.achievement_id,
        student_id=event.student_id,
        year_id=year_id,
        kind=event.achievement_kind,
        title=event.title,
        area=event.area,
        level=event.level,
        result=event.result,
        date=event.date,
        organiser=event.organiser,
        external=event.external,
        family_consent=event.family_consent,
        attachment=event.attachment,
        author=event.author,
        recorded_at=event.hlc,
    )
