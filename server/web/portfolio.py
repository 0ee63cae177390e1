"""The portfolio as people read it: a pupil's achievements, a class overview and the school's
list by level and result ("одарённые дети", 001 §3.4). Never scored (003 §3.4): rows are
listed as they are, with no points, no totals per pupil and no ranking."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from server.reports.catalog import Report
from server.storage import portfolio as storage
from server.web.pupil_access import class_name_of
from shared.model import (
    ACHIEVEMENT_KIND_RU,
    ACHIEVEMENT_LEVEL_RU,
    ACHIEVEMENT_RESULT_RU,
    Achievement,
    AchievementKind,
    AchievementLevel,
    AchievementResult,
    Directory,
    Student,
)

# the order rows are listed in (an order, not points): winners first, participants last
RESULT_ORDER = (
    AchievementResult.WINNER,
    AchievementResult.PRIZE_WINNER,
    AchievementResult.GTO_GOLD,
    AchievementResult.GTO_SILVER,
    AchievementResult.GTO_BRONZE,
    AchievementResult.PARTICIPANT,
)
HEADER = ("Дата", "Вид", "Название", "Предмет / направление", "Уровень", "Результат", "Организатор")


@dataclass(frozen=True)
class AchievementLine:
    """One achievement in Russian words, as pages and printed documents show it."""

    id: str
    student_id: str
    date: dt.date
    kind: str
    title: str
    area: str
    level: str
    result: str
    organiser: str
    external: bool
    document: str  # the attached file's name, "" when there is none

    @property
    def cells(self) -> list[str]:
        return [
            f"{self.date:%d.%m.%Y}",
            self.kind,
            self.title + (" (другая организация)" if self.external else ""),
            self.area,
            self.level,
            self.result,
            self.organiser,
        ]


def line(achievement: Achievement) -> AchievementLine:
    return AchievementLine(
        id=achievement.id,
        student_id=achievement.student_id,
        date=achievement.date,
        kind=ACHIEVEMENT_KIND_RU[achievement.kind],
        title=achievement.title,
        area=achievement.area,
        level=ACHIEVEMENT_LEVEL_RU[achievement.level],
        result=ACHIEVEMENT_RESULT_RU[achievement.result],
        organiser=achievement.organiser,
        external=achievement.external,
        document=achievement.attachment.name if achievement.attachment else "",
    )


def of_student(conn: sqlite3.Connection, student_id: str) -> list[AchievementLine]:
    """Every achievement of the pupil, all years, newest first."""
    return [line(a) for a in storage.achievements(conn, student_ids=[student_id])]


def pdf_data(
    directory: Directory, student: Student, class_name: str, lines: list[AchievementLine]
) -> dict:
    """What templates/portfolio.typ prints."""
    return {
        "title": "Портфолио достижений обучающегося",
        "school": directory.school.name,
        "student": student.full_name,
        "class_name": class_name,
        "header": list(HEADER),
        "rows": [a.cells for a in lines],
        "printed": dt.date.today().strftime("%d.%m.%Y"),
    }


def class_overview(
    conn: sqlite3.Connection, directory: Directory, class_id: str
) -> list[tuple[Student, list[AchievementLine]]]:
    """Every pupil who was ever in the class this year, with their achievements of the year."""
    roster = directory.class_roster(class_id)
    found = storage.achievements(
        conn, student_ids=[s.id for s in roster], year_id=directory.year.id
    )
    by_student: dict[str, list[AchievementLine]] = {}
    for a in found:
        by_student.setdefault(a.student_id, []).append(line(a))
    return [(s, by_student.get(s.id, [])) for s in roster]


@dataclass(frozen=True)
class SchoolFilters:
    level: AchievementLevel | None = None
    result: AchievementResult | None = None
    kind: AchievementKind | None = None
    class_id: str | None = None

    @property
    def query(self) -> str:
        pairs = [
            ("level", self.level),
            ("result", self.result),
            ("kind", self.kind),
            ("class_id", self.class_id),
        ]
        return "&".join(f"{k}={v}" for k, v in pairs if v)


def school_list(conn: sqlite3.Connection, directory: Directory, filters: SchoolFilters) -> Report:
    """The school's achievements of the year, by level (highest first) and result: the list the
    deputy director keeps for supporting gifted pupils. A list, not a rating."""
    roster = directory.class_roster(filters.class_id) if filters.class_id else None
    ids = [s.id for s in roster] if roster is not None else None
    names = {s.id: s.full_name for s in directory.students}
    levels = list(AchievementLevel)  # school … international
    rows = []
    chosen = [
        a
        for a in storage.achievements(conn, student_ids=ids, year_id=directory.year.id)
        if (filters.level is None or a.level == filters.level)
        and (filters.result is None or a.result == filters.result)
        and (filters.kind is None or a.kind == filters.kind)
    ]
    chosen.sort(
        key=lambda a: (
            -levels.index(a.level),
            RESULT_ORDER.index(a.result),
            names.get(a.student_id, ""),
            a.date,
        )
    )
    for a in chosen:
        item = line(a)
        rows.append(
            (
                item.level,
                item.result,
                names.get(a.student_id, a.student_id),
                class_name_of(directory, a.student_id),
                item.kind,
                item.title,
                item.area,
                f"{a.date:%d.%m.%Y}",
                item.organiser,
            )
        )
    picked = [
        ACHIEVEMENT_LEVEL_RU[filters.level] + " уровень" if filters.level else "",
        ACHIEVEMENT_RESULT_RU[filters.result] if filters.result else "",
        ACHIEVEMENT_KIND_RU[filters.kind] if filters.kind else "",
    ]
    class_name = next((c.name for c in directory.classes if c.id == filters.class_id), "")
    if class_name:
        picked.append(f"{class_name} класс")
    subtitle = f"{directory.school.name}, {directory.year.name} учебный год"
    if any(picked):
        subtitle += ". Отбор: " + ", ".join(p for p in picked if p)
    return Report(
        name="gifted",
        title="Достижения обучающихся (одарённые дети)",
        subtitle=subtitle,
        header=(
            "Уровень",
            "Результат",
            "Ученик",
            "Класс",
            "Вид",
            "Название",
            "Предмет / направление",
            "Дата",
            "Организатор",
        ),
        rows=tuple(rows),
        notes=("Список без баллов и рейтинга: портфолио не оценивается (003 §3.4).",),
        landscape=True,
    )
