"""The domain both sides agree on: the school directory and the journal events.

The directory is authored by the server; clients receive the slice they need.
Journal events are immutable: a correction is a new event that supersedes the old one.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

import msgspec

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]


class Frozen(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=False):
    """Base for every struct that crosses a boundary."""


# --------------------------------------------------------------------------- directory


class Role(StrEnum):
    """Roles of REQUIREMENTS.md «People and what each may do». Class teacher is an assignment."""

    TEACHER = "teacher"  # учитель
    DEPUTY = "deputy"  # заместитель директора по УВР
    DIRECTOR = "director"  # директор
    RECORDS_OFFICER = "records_officer"  # документовед
    SYSADMIN = "sysadmin"  # технический специалист
    PARENT = "parent"  # родитель (законный представитель)
    STUDENT = "student"  # обучающийся
    DISTRICT = "district"  # специалист районного управления образования: только сводные цифры


ADMINISTRATION = frozenset({Role.DEPUTY, Role.DIRECTOR})
STAFF_ROLES = frozenset(
    {Role.TEACHER, Role.DEPUTY, Role.DIRECTOR, Role.RECORDS_OFFICER, Role.SYSADMIN}
)


class PeriodKind(StrEnum):
    QUARTER = "quarter"  # четверть
    HALF = "half"  # полугодие
    YEAR = "year"  # учебный год (годовая отметка)


class School(Frozen, frozen=True):
    id: Id
    name: ShortText
    district: ShortText = ""


class SchoolYear(Frozen, frozen=True):
    id: Id
    school_id: Id
    name: ShortText  # "2026/2027"
    starts: dt.date
    ends: dt.date


class Period(Frozen, frozen=True):
    """Учебный период: четверть, полугодие или год, with its dates."""

    id: Id
    year_id: Id
    kind: PeriodKind
    number: int
    name: ShortText
    starts: dt.date
    ends: dt.date


class SchoolClass(Frozen, frozen=True):
    """Класс, e.g. 5А, in one school year."""

    id: Id
    year_id: Id
    grade: Annotated[int, msgspec.Meta(ge=1, le=11)]
    letter: ShortText = ""

    @property
    def name(self) -> str:
        return f"{self.grade}{self.letter}"


class Subject(Frozen, frozen=True):
    id: Id
    name: ShortText


class Person(Frozen, frozen=True):
    id: Id
    last_name: ShortText
    first_name: ShortText
    patronymic: ShortText = ""

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)

    @property
    def short_name(self) -> str:
        initials = "".join(f"{p[0]}." for p in (self.first_name, self.patronymic) if p)
        return f"{self.last_name} {initials}".strip()


class Student(Person, frozen=True, kw_only=True):
    birth_date: dt.date | None = None


class Staff(Person, frozen=True, kw_only=True):
    roles: tuple[Role, ...] = (Role.TEACHER,)


class Parent(Person, frozen=True, kw_only=True):
    pass


class Membership(Frozen, frozen=True):
    """A student's place in a class over time: a pupil who moves keeps their records."""

    student_id: Id
    class_id: Id
    starts: dt.date
    ends: dt.date | None = None

    def covers(self, day: dt.date) -> bool:
        return self.starts <= day and (self.ends is None or day <= self.ends)


class TeachingAssignment(Frozen, frozen=True):
    """Teacher × class × subject (the year is the class's)."""

    teacher_id: Id
    class_id: Id
    subject_id: Id


class ClassTeacher(Frozen, frozen=True):
    """Классный руководитель: reads the whole journal of the class, edits none of it."""

    teacher_id: Id
    class_id: Id


class ParentLink(Frozen, frozen=True):
    parent_id: Id
    student_id: Id


class StudyGroup(Frozen, frozen=True):
    """Группа: part of a class taught one subject apart (English group 1, technology «девочки»),
    with its own teachers and its own journal."""

    class_id: Id
    subject_id: Id
    key: Id  # ASCII, unique among the class's groups of the subject: the journal id's suffix
    name: ShortText  # as the school writes it: «1», «девочки»
    teachers: tuple[Id, ...] = ()


class GroupMembership(Frozen, frozen=True):
    """A pupil's place in a group over time: moved to another group, their marks stay put."""

    student_id: Id
    class_id: Id
    subject_id: Id
    group_key: Id
    starts: dt.date
    ends: dt.date | None = None


class CombinedClasses(Frozen, frozen=True):
    """Класс-комплект: classes of different grades taught one subject together, in one lesson
    by one teacher. Each class keeps its own journal; a lesson is entered once and written
    into each of them under one lesson id (shared.combined)."""

    subject_id: Id
    class_ids: tuple[Id, ...]


class JournalInfo(Frozen, frozen=True):
    """One journal: a (school year, class or group, subject) section, the unit of sync and
    permission. `group` is the group's key; empty for the whole class."""

    id: str
    year_id: Id
    class_id: Id
    subject_id: Id
    writable: bool = False
    group: str = ""


# A group's journal id is `year~class~subject+group`: still three parts, so every reader of
# journal ids (older laptops, archive tools) parses it; `+` is outside `Id`, so it cannot be
# part of a subject id and never collides with a whole-class journal.
GROUP_MARK = "+"


def journal_id(year_id: str, class_id: str, subject_id: str, group: str = "") -> str:
    section = f"{subject_id}{GROUP_MARK}{group}" if group else subject_id
    return f"{year_id}~{class_id}~{section}"


def parse_journal_id(value: str) -> tuple[str, str, str]:
    """(year, class, section): the section is the subject, or `subject+group` for a group."""
    parts = value.split("~")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"not a journal id: {value!r}")
    return parts[0], parts[1], parts[2]


def split_section(section: str) -> tuple[str, str]:
    """The subject and the group (empty for the whole class) of a journal id's section."""
    subject, _, group = section.partition(GROUP_MARK)
    return subject, group


# The portfolio of a class is a document of its own, synced like a journal but never listed
# among the directory's journals: its "subject" cannot be a subject id (`@` is outside `Id`).
PORTFOLIO_SUBJECT = "@portfolio"


def portfolio_id(year_id: str, class_id: str) -> str:
    """The id of the portfolio document of a class (one per school year and class)."""
    return journal_id(year_id, class_id, PORTFOLIO_SUBJECT)


def is_portfolio_id(value: str) -> bool:
    return value.endswith("~" + PORTFOLIO_SUBJECT)


class YearClosure(Frozen, frozen=True):
    """A school year closed for the archive (000 §7.1): its journals take no more entries."""

    year_id: Id
    closed_on: dt.date
    closed_by: Id  # the staff member who closed it


class CorrectionGrant(Frozen, frozen=True):
    """Permission for one person to correct one journal of a closed year (000 §5.3)."""

    id: int
    journal_id: str
    person_id: Id
    reason: Annotated[str, msgspec.Meta(max_length=500)]
    granted_by: Id
    expires_on: dt.date


# --------------------------------------------------------------------------- portfolio


class AchievementKind(StrEnum):
    """Kinds of achievement in the portfolio (000 §4.2.1, 001 §4.7, 003 §3)."""

    OLYMPIAD = "olympiad"  # олимпиада
    CONTEST = "contest"  # конкурс
    SPORTS = "sports"  # спортивное соревнование
    GTO = "gto"  # нормы ГТО
    CONFERENCE = "conference"  # конференция
    PROJECT = "project"  # проект
    VOLUNTEERING = "volunteering"  # волонтёрская деятельность
    CREATIVE = "creative"  # творческая работа, выставка
    OTHER = "other"  # другое


class AchievementLevel(StrEnum):
    SCHOOL = "school"  # школьный
    MUNICIPAL = "municipal"  # муниципальный
    REGIONAL = "regional"  # региональный
    FEDERAL = "federal"  # всероссийский
    INTERNATIONAL = "international"  # международный


class AchievementResult(StrEnum):
    """The result, not a score: the portfolio is never scored (003 §3.4)."""

    PARTICIPANT = "participant"  # участник
    PRIZE_WINNER = "prize_winner"  # призёр
    WINNER = "winner"  # победитель
    GTO_GOLD = "gto_gold"  # знак ГТО: золотой
    GTO_SILVER = "gto_silver"  # серебряный
    GTO_BRONZE = "gto_bronze"  # бронзовый


ACHIEVEMENT_KIND_RU: dict[AchievementKind, str] = {
    AchievementKind.OLYMPIAD: "Олимпиада",
    AchievementKind.CONTEST: "Конкурс",
    AchievementKind.SPORTS: "Спортивное соревнование",
    AchievementKind.GTO: "Нормы ГТО",
    AchievementKind.CONFERENCE: "Конференция",
    AchievementKind.PROJECT: "Проект",
    AchievementKind.VOLUNTEERING: "Волонтёрская деятельность",
    AchievementKind.CREATIVE: "Творческая работа",
    AchievementKind.OTHER: "Другое",
}
ACHIEVEMENT_LEVEL_RU: dict[AchievementLevel, str] = {
    AchievementLevel.SCHOOL: "школьный",
    AchievementLevel.MUNICIPAL: "муниципальный",
    AchievementLevel.REGIONAL: "региональный",
    AchievementLevel.FEDERAL: "всероссийский",
    AchievementLevel.INTERNATIONAL: "международный",
}
ACHIEVEMENT_RESULT_RU: dict[AchievementResult, str] = {
    AchievementResult.PARTICIPANT: "участник",
    AchievementResult.PRIZE_WINNER: "призёр",
    AchievementResult.WINNER: "победитель",
    AchievementResult.GTO_GOLD: "золотой знак ГТО",
    AchievementResult.GTO_SILVER: "серебряный знак ГТО",
    AchievementResult.GTO_BRONZE: "бронзовый знак ГТО",
}


class Attachment(Frozen, frozen=True):
    """The document that proves an achievement (a diploma scan), stored by its checksum."""

    sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
    name: ShortText  # the file name the teacher chose, shown to people
    media_type: Annotated[str, msgspec.Meta(max_length=100)]  # application/pdf, image/png …
    size: Annotated[int, msgspec.Meta(ge=1)]


class Achievement(Frozen, frozen=True, kw_only=True):
    """One achievement of a pupil as the server consolidates it (the portfolio's row).

    `external` marks an achievement earned in another organisation: it is recorded only with
    the family's consent (001 §5.1), which `family_consent` says was given.
    """

    id: Id
    student_id: Id
    year_id: Id
    kind: AchievementKind
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]  # «Школьный этап ВсОШ»
    area: ShortText = ""  # subject or area: «математика», «лёгкая атлетика»
    level: AchievementLevel = AchievementLevel.SCHOOL
    result: AchievementResult = AchievementResult.PARTICIPANT
    date: dt.date
    organiser: ShortText = ""
    external: bool = False
    family_consent: bool = False
    attachment: Attachment | None = None
    author: Id  # the staff member who recorded it
    recorded_at: Annotated[str, msgspec.Meta(max_length=64)] = ""  # HLC stamp of the entry


# --------------------------------------------------------------------------- scales and weights


class Scale(StrEnum):
    """Шкала оценивания of a journal (004 §1.5, 001 §3.4, 002 §2.11)."""

    FIVE_POINT = "five_point"  # пятибалльная
    PASS_FAIL = "pass_fail"  # зачёт / незачёт
    NONE = "none"  # безотметочное обучение (1 класс, ОРКСЭ)


SCALE_RU: dict[Scale, str] = {
    Scale.FIVE_POINT: "пятибалльная",
    Scale.PASS_FAIL: "зачёт / незачёт",
    Scale.NONE: "без отметок",
}


class ScaleSetting(Frozen, frozen=True):
    """The scale a school set for a grade, a subject, or a subject in one grade.

    The most specific setting wins (grade and subject, then subject, then grade); without one a
    journal is five-point, except grade 1, which is taught without marks (shared.scales)."""

    scale: Scale
    grade: Annotated[int, msgspec.Meta(ge=1, le=11)] | None = None
    subject_id: Id | None = None
    modifiers: bool = False  # the school's act allows «4+», «5−» (five-point only)


class WorkWeight(Frozen, frozen=True):
    """The school's weight of a mark for a kind of work (002 §3.2); shared.grades has defaults."""

    work_kind: str  # a WorkKind value
    weight: Annotated[int, msgspec.Meta(ge=1, le=5)]


class Directory(Frozen, frozen=True):
    """The part of the directory one user may see."""

    school: School
    year: SchoolYear
    periods: tuple[Period, ...] = ()
    classes: tuple[SchoolClass, ...] = ()
    subjects: tuple[Subject, ...] = ()
    students: tuple[Student, ...] = ()
    memberships: tuple[Membership, ...] = ()
    staff: tuple[Staff, ...] = ()
    teaching: tuple[TeachingAssignment, ...] = ()
    class_teachers: tuple[ClassTeacher, ...] = ()
    journals: tuple[JournalInfo, ...] = ()
    closure: YearClosure | None = None  # set once the year is closed
    corrections: tuple[CorrectionGrant, ...] = ()  # grants in force for the closed year
    scales: tuple[ScaleSetting, ...] = ()  # issue 16: set by the deputy; defaults in shared.scales
    weights: tuple[WorkWeight, ...] = ()  # issue 16: the school's weights by kind of work
    groups: tuple[StudyGroup, ...] = ()  # issue 15: classes split for a subject
    group_members: tuple[GroupMembership, ...] = ()  # issue 15: who is in which group, when
    combined: tuple[CombinedClasses, ...] = ()  # issue 15: классы-комплекты

    def class_roster(self, class_id: str, day: dt.date | None = None) -> list[Student]:
        """Students of a class (on a day, or ever), alphabetical as in the paper journal."""
        ids = {
            m.student_id
            for m in self.memberships
            if m.class_id == class_id and (day is None or m.covers(day))
        }
        found = [s for s in self.students if s.id in ids]
        return sorted(found, key=lambda s: (s.last_name, s.first_name, s.patronymic, s.id))


# --------------------------------------------------------------------------- journal events


class WorkKind(StrEnum):
    """Вид работы on a lesson (000 §4.3.1, 002 §3.2–3.3)."""

    REGULAR = "regular"  # обычный урок
    CONTROL = "control"  # контрольная работа
    PRACTICAL = "practical"  # практическая работа
    LABORATORY = "laboratory"  # лабораторная работа
    INDEPENDENT = "independent"  # самостоятельная работа


class AttendanceCode(StrEnum):
    """Attendance on a lesson (000 §5.4); illness with a document is distinguished (002 §3.5)."""

    PRESENT = "present"  # присутствовал
    ABSENT = "absent"  # н — отсутствовал
    ILL = "ill"  # б — болел, есть медицинский документ
    EXCUSED = "excused"  # у — уважительная причина
    LATE = "late"  # о — опоздал


ATTENDANCE_LETTERS: dict[AttendanceCode, str] = {
    AttendanceCode.PRESENT: "",
    AttendanceCode.ABSENT: "н",
    AttendanceCode.ILL: "б",
    AttendanceCode.EXCUSED: "у",
    AttendanceCode.LATE: "о",
}


class MarkKind(StrEnum):
    """Kinds of marks (004 §1.4, 000 §3.2.2)."""

    CURRENT = "current"  # текущая
    PERIOD = "period"  # четвертная / полугодовая
    YEAR = "year"  # годовая (промежуточная аттестация)
    FINAL = "final"  # итоговая (за уровень образования)
    THEMATIC = "thematic"  # тематическая / за модуль
    EXAM = "exam"  # экзаменационная


class MarkSpecial(StrEnum):
    """A mark that is not a number (004 §1.4–1.5, 001 §3.4, 002 §2.11)."""

    NONE = ""
    PASS = "pass"  # зач — зачтено
    FAIL = "fail"  # незач — не зачтено
    NOT_ATTESTED = "na"  # н/а — не аттестован (period and year columns)
    EXEMPT = "exempt"  # осв. — освобождён, by a document, for dates (period and year columns)


MARK_SPECIAL_RU: dict[MarkSpecial, str] = {
    MarkSpecial.NONE: "",
    MarkSpecial.PASS: "зач",
    MarkSpecial.FAIL: "незач",
    MarkSpecial.NOT_ATTESTED: "н/а",
    MarkSpecial.EXEMPT: "осв.",
}


class NotAttestedReason(StrEnum):
    """Why a pupil is «н/а»."""

    ABSENCES = "absences"  # пропуски
    NO_MARKS = "no_marks"  # нет отметок


NOT_ATTESTED_RU: dict[NotAttestedReason, str] = {
    NotAttestedReason.ABSENCES: "по пропускам",
    NotAttestedReason.NO_MARKS: "нет отметок",
}


class EventBase(
    msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", forbid_unknown_fields=True
):
    """Common part of every journal event.

    `hlc` is a hybrid logical clock stamp (see shared.hlc): device clocks in rural schools are
    often wrong, so ordering never trusts the wall clock alone.
    """

    id: Id
    author: Id
    device: Id
    hlc: Annotated[str, msgspec.Meta(max_length=64)]
    supersedes: tuple[Id, ...] = ()
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class LessonRecorded(EventBase, frozen=True, kw_only=True, tag="lesson"):
    """A lesson and what was done: тема урока, домашнее задание, вид работы."""

    lesson_id: Id
    date: dt.date
    slot: Annotated[int, msgspec.Meta(ge=1, le=4)] = 1  # a double lesson is two slots
    topic: Annotated[str, msgspec.Meta(max_length=500)] = ""
    homework: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    work_kind: WorkKind = WorkKind.REGULAR


class AttendanceMarked(EventBase, frozen=True, kw_only=True, tag="attendance"):
    lesson_id: Id
    student_id: Id
    code: AttendanceCode


Modifier = Literal["", "+", "-"]


class MarkGiven(EventBase, frozen=True, kw_only=True, tag="mark", omit_defaults=True):
    """A mark in a lesson's column; `slot` allows several marks in one cell.

    On a five-point journal `value` is 1–5 (with `modifier` «+»/«−» where the school allows
    it); on a pass/fail journal `value` is 0 and `special` says зач or незач. New fields are
    left out of the encoding when empty, so older laptops still read these events."""

    lesson_id: Id
    student_id: Id
    value: int
    slot: Annotated[int, msgspec.Meta(ge=0, le=9)] = 0
    work_kind: WorkKind = WorkKind.REGULAR
    weight: int = 1
    modifier: Modifier = ""
    special: MarkSpecial = MarkSpecial.NONE


class PeriodMarkGiven(EventBase, frozen=True, kw_only=True, tag="period_mark", omit_defaults=True):
    """Отметка за период (четверть, полугодие), год, экзамен, итоговая или тематическая.

    The cell of a period or year mark is (period, pupil); an exam or final mark is a column
    of its own beside the year's, and a thematic mark a column per `topic` (shared.fold).
    `special` holds «н/а» (with `na_reason`), «осв.» (with `document` and the dates it
    covers: the pupil's current marks on those dates are refused) or зач/незач; `value` is
    then 0."""

    period_id: Id
    student_id: Id
    value: int
    mark_kind: MarkKind = MarkKind.PERIOD
    special: MarkSpecial = MarkSpecial.NONE
    na_reason: NotAttestedReason | None = None
    document: ShortText = ""  # «Справка ВК № 12 от 01.09.2026»
    exempt_from: dt.date | None = None
    exempt_to: dt.date | None = None
    topic: ShortText = ""  # a thematic mark's topic or module: its column


class Retracted(EventBase, frozen=True, kw_only=True, tag="retraction"):
    """Empties a cell: supersedes the entries it retracts. Nothing is ever deleted."""


class AchievementRecorded(EventBase, frozen=True, kw_only=True, tag="achievement"):
    """An achievement of a pupil, in the portfolio document of their class (000 §4.2.1, 003 §3).

    `achievement_id` is the cell: a correction is a new event with the same id superseding the
    old one, a retraction removes it from the portfolio. There is no score (003 §3.4): the
    struct forbids unknown fields, so an event carrying one is refused as malformed.
    """

    achievement_id: Id
    student_id: Id
    achievement_kind: AchievementKind
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    area: ShortText = ""
    level: AchievementLevel = AchievementLevel.SCHOOL
    result: AchievementResult = AchievementResult.PARTICIPANT
    date: dt.date
    organiser: ShortText = ""
    external: bool = False  # earned in another organisation (001 §5.1)
    family_consent: bool = False
    attachment: Attachment | None = None


class Refused(EventBase, frozen=True, kw_only=True, tag="refusal"):
    """Written by the server: the superseded events broke a rule and count for nothing."""

    rule: Annotated[str, msgspec.Meta(max_length=64)]


class RefusalWithdrawn(EventBase, frozen=True, kw_only=True, tag="refusal-withdrawn"):
    """Written by the server when a closed year is reopened, or an exemption that refused
    marks is retracted or narrowed: the superseded refusals count for nothing, so their
    entries are valid again."""


JournalEvent = (
    LessonRecorded
    | AttendanceMarked
    | MarkGiven
    | PeriodMarkGiven
    | AchievementRecorded
    | Retracted
    | Refused
    | RefusalWithdrawn
)

SERVER_AUTHOR = "server"

event_decoder = msgspec.json.Decoder(JournalEvent)
_event_encoder = msgspec.json.Encoder()


def encode_event(event: JournalEvent) -> str:
    return _event_encoder.encode(event).decode()


def decode_event(raw: str | bytes) -> JournalEvent:
    """Decode one stored event; raises msgspec.ValidationError/DecodeError on bad input."""
    return event_decoder.decode(raw)
