"""A list compared with what the school holds: the preview (additions, changes, leavers and
every wrong line with its number and a Russian reason) and the writes that apply it, in one
transaction or not at all."""

from __future__ import annotations

import datetime as dt
import functools
import re
import sqlite3
from dataclasses import dataclass, field

import msgspec

from server.importer import _person_id
from server.storage import directory as directory_storage
from server.storage import lists as storage
from server.storage.db import transaction
from server.storage.lists import Current, SnilsKeys, Writes
from shared.model import SchoolClass


class LineError(msgspec.Struct, frozen=True, kw_only=True):
    line: int  # 0: the file as a whole
    reason: str

    def __str__(self) -> str:
        return f"Строка {self.line}: {self.reason}" if self.line else self.reason


class Preview(msgspec.Struct, frozen=True, kw_only=True):
    """What applying the list would do, for a person to read before anything is written."""

    kind: str
    school_id: str
    year_id: str
    on: dt.date  # the day arrivals, moves and leavers take effect
    lines: int
    encoding: str
    additions: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    leavers: tuple[str, ...] = ()
    errors: tuple[LineError, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def unchanged(self) -> bool:
        return not (self.additions or self.changes or self.leavers)


@dataclass
class Plan:
    """A list being compared: the Russian lines of the preview and the writes behind them."""

    now: Current
    on: dt.date
    additions: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    leavers: list[str] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    writes: Writes = field(default_factory=Writes)

    def error(self, line: int, reason: str) -> None:
        self.errors.append(LineError(line=line, reason=reason))


# --------------------------------------------------------------------------- fields


_DATE = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}")


def parse_date(text: str) -> dt.date | None:
    """ДД.ММ.ГГГГ, as the school writes dates; anything else is None."""
    if not _DATE.fullmatch(text):
        return None
    day, month, year = text.split(".")
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def snils_digits(text: str) -> str | None:
    """The 11 digits of a СНИЛС whose check number is right, else None."""
    digits = re.sub(r"[\s-]", "", text)
    if not re.fullmatch(r"\d{11}", digits):
        return None
    body, check = digits[:9], int(digits[9:])
    if int(body) <= 1001998:  # numbers this low carry no check number
        return digits
    total = sum(int(d) * (9 - i) for i, d in enumerate(body))
    expected = total if total < 100 else 0 if total in (100, 101) else total % 101 % 100
    return digits if expected == check else None


def norm(text: str) -> str:
    return " ".join(text.replace("ё", "е").replace("Ё", "Е").lower().split())


class PersonLine(msgspec.Struct, frozen=True, kw_only=True):
    last: str
    first: str
    patronymic: str
    birth: dt.date | None
    snils: str | None
    snils_key: str = ""  # the СНИЛС keyed under the server's secret (`SnilsKeys`)

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.last, self.first, self.patronymic) if p)

    @property
    def shown(self) -> str:
        return f"{self.name}, {self.birth:%d.%m.%Y}" if self.birth else self.name

    def stable_keys(self) -> tuple[str, ...]:
        """Stable keys, strongest first: the СНИЛС (keyed: it is only ever matched), then the
        full name with the birth date."""
        return _stable_keys(self.last, self.first, self.patronymic, self.birth, self.snils_key)


@functools.lru_cache(maxsize=8192)
def _stable_keys(
    last: str, first: str, patronymic: str, birth: dt.date | None, snils_key: str
) -> tuple[str, ...]:
    fio = "fio:" + "|".join((norm(last), norm(first), norm(patronymic), str(birth or "")))
    return (snils_key, fio) if snils_key else (fio,)


def person(
    plan: Plan,
    number: int,
    line: dict[str, str],
    *,
    suffix: str = "",
    birth_required: bool = False,
    with_snils: bool = True,
) -> PersonLine | None:
    """The person a line names (columns «Фамилия{suffix}» …); None with the reason if wrong."""
    last, first = line.get(f"Фамилия{suffix}", ""), line.get(f"Имя{suffix}", "")
    patronymic = line.get(f"Отчество{suffix}", "")
    birth_text = line.get(f"Дата рождения{suffix}", "")
    snils_text = line.get("СНИЛС", "") if with_snils else ""
    who = "ребёнка" if suffix else ""
    reasons = []
    if not last or not first:
        reasons.append(f"не указаны фамилия или имя {who}".strip() + ".")
    for value in (last, first, patronymic):
        if len(value) > 100 or re.search(r"[0-9@#$%^&*_=+<>{}\[\]|\\/]", value):
            reasons.append(f"«{value[:40]}» не похоже на фамилию, имя или отчество.")
    birth = parse_date(birth_text) if birth_text else None
    if birth_text and birth is None:
        wrong = (
            "такой даты нет"
            if re.fullmatch(r"\d\d?\.\d\d?\.\d{4}", birth_text)
            else ("не в формате ДД.ММ.ГГГГ")
        )
        reasons.append(f"дата рождения {who} «{birth_text}» {wrong}.".replace("  ", " "))
    elif birth and not 1900 <= birth.year <= plan.on.year:
        reasons.append(f"дата рождения {birth_text} невозможна.")
    snils = snils_digits(snils_text) if snils_text else None
    if snils_text and snils is None:
        reasons.append(f"СНИЛС «{snils_text}»: не 11 цифр или неверное контрольное число.")
    if birth_required and not birth_text and not snils:
        reasons.append(f"нужна дата рождения {who} (или СНИЛС).".replace("  ", " "))
    for reason in reasons:
        plan.error(number, reason)
    if reasons:
        return None
    return PersonLine(
        last=last,
        first=first,
        patronymic=patronymic,
        birth=birth,
        snils=snils,
        snils_key=plan.now.snils.key(snils) if snils else "",
    )


def find(plan: Plan, kind: str, who: PersonLine, fallback: dict[str, str]) -> str | None:
    """The id of a person the school already holds. A line with a СНИЛС is that СНИЛС's
    person, or (the first time a СНИЛС is given) the namesake held without one; a line without
    is the namesake held without a СНИЛС, else the only namesake. People imported before keys
    were kept are found by `fallback`, full name and birth → id.

    Parents' keys are the server's, not the school's (a parent may have children in two of its
    schools), so a parent is found in another school only by the СНИЛС; by name, only among
    the parents of this school's pupils — a namesake elsewhere is another person."""
    keys = who.stable_keys()
    if who.snils:
        # a key written before the server's secret (migration 3) is still this СНИЛС's person
        for key in (keys[0], SnilsKeys.legacy(who.snils)):
            if found := plan.now.keys.get((kind, key)):
                return found[0]
    namesakes = plan.now.keys.get((kind, keys[-1]), [])
    if kind == "parent":
        namesakes = [p for p in namesakes if p in plan.now.links]
    plain = [p for p in namesakes if (kind, p) not in plan.now.with_snils]
    if len(plain) == 1:
        return plain[0]
    if not who.snils and len(namesakes) == 1:
        return namesakes[0]
    if namesakes:
        return None
    return fallback.get(keys[-1])


def new_id(prefix: str, who: PersonLine, taken) -> str:
    """A fresh id in the form the first importer used, made unique if a namesake holds it."""
    base = _person_id(prefix, who.last, who.first, who.patronymic, str(who.birth))
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def class_name(row: dict | SchoolClass) -> str:
    grade, letter = (
        (row.grade, row.letter)
        if isinstance(row, SchoolClass)
        else (
            row["grade"],
            row["letter"],
        )
    )
    return f"{grade}{letter}"


def effective_day(now: Current, on: dt.date | None, today: dt.date) -> dt.date:
    """The day a list takes effect: given, else the first day of the year for the year's first
    lists (the school starts its journals with them), else today, kept inside the year."""
    starts, ends = dt.date.fromisoformat(now.year_starts), dt.date.fromisoformat(now.year_ends)
    if on is None:
        on = starts if not now.has_members else today
    return min(max(on, starts), ends)


def foreign(conn: sqlite3.Connection, plan: Plan) -> None:
    """Ids of this list that belong to another school of the server refuse it."""
    for clash in directory_storage.foreign_rows(conn, plan.now.school_id, plan.writes.rows):
        plan.error(0, f"{clash[0].upper()}{clash[1:]}: такие данные нельзя загрузить в эту школу.")


def finish(plan: Plan, kind: str, lines: int, encoding: str) -> Preview:
    return Preview(
        kind=kind,
        school_id=plan.now.school_id,
        year_id=plan.now.year_id,
        on=plan.on,
        lines=lines,
        encoding=encoding,
        additions=tuple(plan.additions),
        changes=tuple(plan.changes),
        leavers=tuple(plan.leavers),
        errors=tuple(sorted(plan.errors, key=lambda e: e.line)),
        notes=tuple(plan.notes),
    )


def apply_writes(conn: sqlite3.Connection, plan: Plan) -> None:
    with transaction(conn):
        storage.write(conn, plan.now.school_id, plan.writes)
