"""The SQL behind school lists: what a list is compared with, and writing a planned import."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec

from server.storage import db
from server.storage import directory as directory_storage


class SnilsKeys:
    """The match key of a СНИЛС: HMAC-SHA256 under the server's own secret (meta, made once by
    the schema), so a copied database does not give the 11 digits back by trying every number,
    and two servers' keys of one СНИЛС differ. The secret is never shown, not even by repr."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __repr__(self) -> str:
        return "SnilsKeys(<секрет сервера>)"

    def key(self, digits: str) -> str:
        return "snils:" + hmac.new(self._secret, digits.encode(), hashlib.sha256).hexdigest()[:32]

    @staticmethod
    def legacy(digits: str) -> str:
        """The unsalted key written before migration 3: matched only to be replaced."""
        return db.LEGACY_SNILS_PREFIX + hashlib.sha256(digits.encode()).hexdigest()[:32]


def snils_keys(conn: sqlite3.Connection) -> SnilsKeys:
    secret = db.get_meta(conn, db.SNILS_SECRET_KEY)
    if secret is None:  # every database is opened through the schema, which makes it
        raise RuntimeError("no СНИЛС key secret in meta: the database skipped its schema")
    return SnilsKeys(bytes.fromhex(secret))


class Current(msgspec.Struct, frozen=True, kw_only=True):
    """What the database holds for one school year, read in a few queries."""

    school_id: str
    year_id: str
    year_starts: str
    year_ends: str
    has_members: bool
    classes: dict[str, dict]  # class id -> row (grade, letter)
    pupils: dict[str, dict]  # student id -> row, for pupils ever in this school
    memberships: dict[str, dict]  # student id -> their open membership of this year
    parents: dict[str, dict]  # parent id -> row, parents of this school's pupils
    links: dict[str, set[str]]  # parent id -> student ids
    parent_ids: frozenset[str]  # every parent of the server: a new parent's id must be new
    staff: dict[str, dict]  # staff id -> row (roles decoded)
    subjects: dict[str, str]  # subject id -> name
    teaching: set[tuple[str, str, str]]  # of this year's classes
    class_teachers: set[tuple[str, str]]  # (teacher, class) of this year's classes
    load: dict[tuple[str, str, str, str], float]  # (teacher, class, subject, group) -> hours
    # (pupil, class, subject) -> their open place in a group of this year (issue 15)
    groups: dict[tuple[str, str, str], dict] = {}
    # (subject, class) -> the combined set (класс-комплект) the class is taught in
    combined: dict[tuple[str, str], str] = {}
    keys: dict[tuple[str, str], list[str]]  # (kind, key) -> ids (namesakes share a name key)
    with_snils: set[tuple[str, str]]  # (kind, person id) of people whose СНИЛС is known
    snils: SnilsKeys  # keys a СНИЛС of a line as the server keeps it


def current(conn: sqlite3.Connection, school_id: str, year_id: str, on: str) -> Current:
    year = conn.execute("SELECT * FROM years WHERE id = ?", (year_id,)).fetchone()
    classes = {
        r["id"]: dict(r)
        for r in conn.execute("SELECT * FROM classes WHERE year_id = ?", (year_id,))
    }
    in_school = (
        "SELECT m.student_id FROM memberships m JOIN classes c ON c.id = m.class_id "
        "JOIN years y ON y.id = c.year_id WHERE y.school_id = ?"
    )
    pupils = {
        r["id"]: dict(r)
        for r in conn.execute(f"SELECT * FROM students WHERE id IN ({in_school})", (school_id,))
    }
    memberships = {}
    has_members = False
    for r in conn.execute(
        "SELECT m.* FROM memberships m JOIN classes c ON c.id = m.class_id WHERE c.year_id = ?",
        (year_id,),
    ):
        has_members = True
        if r["ends"] is None or r["ends"] >= on:
            memberships[r["student_id"]] = dict(r)
    links: dict[str, set[str]] = defaultdict(set)
    for r in conn.execute(
        f"SELECT parent_id, student_id FROM parent_links WHERE student_id IN ({in_school})",
        (school_id,),
    ):
        links[r["parent_id"]].add(r["student_id"])
    parents = {
        r["id"]: dict(r)
        for r in conn.execute(
            "SELECT * FROM parents WHERE id IN (SELECT l.parent_id FROM parent_links l "
            f"WHERE l.student_id IN ({in_school})) OR id IN (SELECT person_id FROM person_keys "
            "WHERE kind = 'parent')",
            (school_id,),
        )
    }
    staff = {}
    for r in conn.execute("SELECT * FROM staff WHERE school_id = ?", (school_id,)):
        staff[r["id"]] = {**dict(r), "roles": tuple(json.loads(r["roles"]))}
    of_year = "SELECT id FROM classes WHERE year_id = ?"
    keys: dict[tuple[str, str], list[str]] = defaultdict(list)
    with_snils = set()
    for kind, key, person_id in conn.execute("SELECT kind, key, person_id FROM person_keys"):
        keys[(kind, key)].append(person_id)
        if key.startswith(("snils:", db.LEGACY_SNILS_PREFIX)):
            with_snils.add((kind, person_id))
    return Current(
        school_id=school_id,
        year_id=year_id,
        year_starts=year["starts"],
        year_ends=year["ends"],
        has_members=has_members,
        classes=classes,
        pupils=pupils,
        memberships=memberships,
        parents=parents,
        links=dict(links),
        parent_ids=frozenset(r[0] for r in conn.execute("SELECT id FROM parents")),
        staff=staff,
        subjects={r["id"]: r["name"] for r in conn.execute("SELECT id, name FROM subjects")},
        teaching={
            (r[0], r[1], r[2])
            for r in conn.execute(
                "SELECT teacher_id, class_id, subject_id FROM teaching "
                f"WHERE class_id IN ({of_year})",
                (year_id,),
            )
        },
        class_teachers={
            (r[0], r[1])
            for r in conn.execute(
                f"SELECT teacher_id, class_id FROM class_teachers WHERE class_id IN ({of_year})",
                (year_id,),
            )
        },
        load={
            (r[0], r[1], r[2], r[3]): r[4]
            for r in conn.execute(
                "SELECT teacher_id, class_id, subject_id, group_name, hours FROM teaching_load "
                f"WHERE class_id IN ({of_year})",
                (year_id,),
            )
        },
        keys=keys,
        with_snils=with_snils,
        snils=snils_keys(conn),
        combined={
            (r[0], r[1]): r[2]
            for r in conn.execute(
                "SELECT subject_id, class_id, together FROM combined_classes "
                f"WHERE class_id IN ({of_year})",
                (year_id,),
            )
        },
        groups={
            (r["student_id"], r["class_id"], r["subject_id"]): dict(r)
            for r in conn.execute(
                f"SELECT * FROM group_members WHERE class_id IN ({of_year}) "
                "AND (ends IS NULL OR ends >= ?) ORDER BY starts",
                (year_id, on),
            )
        },
    )


@dataclass
class Writes:
    """Everything an applied list writes, gathered before one transaction writes it all."""

    rows: list[msgspec.Struct] = field(default_factory=list)  # directory structs to upsert
    keys: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)  # (kind, id)->
    end_memberships: list[tuple[str, str, str, str]] = field(default_factory=list)
    drop_memberships: list[tuple[str, str, str]] = field(default_factory=list)
    drop_links: list[tuple[str, str]] = field(default_factory=list)
    drop_teaching: list[tuple[str, str, str]] = field(default_factory=list)
    drop_class_teachers: list[tuple[str, str]] = field(default_factory=list)
    load: list[tuple[str, str, str, str, float]] = field(default_factory=list)
    drop_load: list[tuple[str, str, str, str]] = field(default_factory=list)
    # places in groups: new (pupil, class, subject, group, starts), ended (pupil, class,
    # subject, starts, ends), and removed before they began (pupil, class, subject, starts)
    group_places: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    end_group_places: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    drop_group_places: list[tuple[str, str, str, str]] = field(default_factory=list)
    combined: list[tuple[str, str, str]] = field(default_factory=list)  # subject, class, set
    drop_combined: list[tuple[str, str]] = field(default_factory=list)  # subject, class


def write(conn: sqlite3.Connection, school_id: str, writes: Writes) -> None:
    """Write a planned list; the caller holds the transaction."""
    many: Iterable[tuple[str, list]] = (
        ("DELETE FROM memberships WHERE student_id = ? AND class_id = ? AND starts = ?",
         writes.drop_memberships),
        ("DELETE FROM parent_links WHERE parent_id = ? AND student_id = ?", writes.drop_links),
        ("DELETE FROM teaching WHERE teacher_id = ? AND class_id = ? AND subject_id = ?",
         writes.drop_teaching),
        ("DELETE FROM class_teachers WHERE teacher_id = ? AND class_id = ?",
         writes.drop_class_teachers),
        ("DELETE FROM teaching_load WHERE teacher_id = ? AND class_id = ? AND subject_id = ? "
         "AND group_name = ?", writes.drop_load),
        ("DELETE FROM group_members WHERE student_id = ? AND class_id = ? AND subject_id = ? "
         "AND starts = ?", writes.drop_group_places),
        ("DELETE FROM combined_classes WHERE subject_id = ? AND class_id = ?",
         writes.drop_combined),
        ("INSERT INTO combined_classes VALUES (?, ?, ?) ON CONFLICT DO UPDATE "
         "SET together = excluded.together", writes.combined),
    )  # fmt: skip
    for sql, params in many:
        conn.executemany(sql, params)
    directory_storage.upsert(conn, writes.rows, school_id=school_id)
    conn.executemany(
        "UPDATE memberships SET ends = ? WHERE student_id = ? AND class_id = ? AND starts = ?",
        [(ends, s, c, starts) for s, c, starts, ends in writes.end_memberships],
    )
    conn.executemany(
        "INSERT INTO teaching_load VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
        "SET hours = excluded.hours",
        writes.load,
    )
    conn.executemany(
        "UPDATE group_members SET ends = ? WHERE student_id = ? AND class_id = ? "
        "AND subject_id = ? AND starts = ?",
        [(ends, s, c, subject, starts) for s, c, subject, starts, ends in writes.end_group_places],
    )
    conn.executemany(
        "INSERT INTO group_members (student_id, class_id, subject_id, group_name, starts) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET group_name = excluded.group_name, "
        "ends = NULL",
        writes.group_places,
    )
    for (kind, person_id), keys in writes.keys.items():
        conn.execute("DELETE FROM person_keys WHERE kind = ? AND person_id = ?", (kind, person_id))
        conn.executemany(
            "INSERT OR IGNORE INTO person_keys VALUES (?, ?, ?)",
            [(kind, key, person_id) for key in keys],
        )


# --------------------------------------------------------------------------- drafts


def save_draft(
    conn: sqlite3.Connection,
    draft_id: str,
    school_id: str,
    kind: str,
    name: str,
    body: bytes,
    login: str,
    now: float,
) -> None:
    """An uploaded list kept between its preview and «Применить»; a day's drafts at most."""
    conn.execute("DELETE FROM list_drafts WHERE created_at < ?", (now - 86400,))
    conn.execute(
        "INSERT INTO list_drafts VALUES (?, ?, ?, ?, ?, ?, ?)",
        (draft_id, school_id, kind, name, body, login, now),
    )


def draft(conn: sqlite3.Connection, draft_id: str, login: str) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT * FROM list_drafts WHERE id = ? AND login = ?", (draft_id, login)
    ).fetchone()


def drop_draft(conn: sqlite3.Connection, draft_id: str) -> None:
    conn.execute("DELETE FROM list_drafts WHERE id = ?", (draft_id,))


# --------------------------------------------------------------------------- movement


def open_membership(
    conn: sqlite3.Connection, student_id: str, year_id: str, day: str
) -> sqlite3.Row | None:
    """The pupil's place in a class of the year on `day` (or from it on)."""
    return conn.execute(
        "SELECT m.* FROM memberships m JOIN classes c ON c.id = m.class_id "
        "WHERE m.student_id = ? AND c.year_id = ? AND (m.ends IS NULL OR m.ends >= ?) "
        "ORDER BY m.starts DESC LIMIT 1",
        (student_id, year_id, day),
    ).fetchone()


def end_membership(conn: sqlite3.Connection, member: sqlite3.Row, last_day: str) -> None:
    """The pupil belongs to the class through `last_day`; a place that would end before it
    began never was, and is removed."""
    if last_day < member["starts"]:
        conn.execute(
            "DELETE FROM memberships WHERE student_id = ? AND class_id = ? AND starts = ?",
            (member["student_id"], member["class_id"], member["starts"]),
        )
    else:
        conn.execute(
            "UPDATE memberships SET ends = ? WHERE student_id = ? AND class_id = ? AND starts = ?",
            (last_day, member["student_id"], member["class_id"], member["starts"]),
        )


def other_schools_classes(conn: sqlite3.Connection, school_id: str) -> list[tuple[str, str, str]]:
    """(school, class, «Школа — 5А») of the newest year of every other school of the server."""
    rows = conn.execute(
        "SELECT s.id, c.id, s.name, c.grade, c.letter FROM schools s JOIN years y "
        "ON y.school_id = s.id "
        "AND y.starts = (SELECT max(starts) FROM years WHERE school_id = s.id) "
        "JOIN classes c ON c.year_id = y.id WHERE s.id != ? ORDER BY s.name, c.grade, c.letter",
        (school_id,),
    )
    return [(r[0], r[1], f"{r[2]} — {r[3]}{r[4]}") for r in rows]


def add_movement(conn: sqlite3.Connection, **row: object) -> None:
    columns = ", ".join(row)
    conn.execute(
        f"INSERT INTO pupil_movements ({columns}) VALUES ({', '.join('?' * len(row))})",
        tuple(row.values()),
    )


def movements(conn: sqlite3.Connection, school_id: str, starts: str, ends: str) -> list[dict]:
    rows = conn.execute(
        "SELECT m.*, s.last_name, s.first_name, s.patronymic FROM pupil_movements m "
        "JOIN students s ON s.id = m.student_id WHERE m.school_id = ? AND m.day BETWEEN ? AND ? "
        "ORDER BY m.day, m.id",
        (school_id, starts, ends),
    )
    return [dict(r) for r in rows]


# --------------------------------------------------------------------------- the next year


def carry_load(conn: sqlite3.Connection, follows: dict[str, str]) -> None:
    """The load's groups and hours follow each class into the next year, for editing."""
    for old, new in follows.items():
        conn.execute(
            "INSERT OR IGNORE INTO teaching_load SELECT teacher_id, ?, subject_id, group_name, "
            "hours FROM teaching_load WHERE class_id = ?",
            (new, old),
        )


def carry_combined(conn: sqlite3.Connection, follows: dict[str, str]) -> None:
    """A combined set (2+4) follows its classes into the next year (3+5), for editing; a set
    one of whose classes leaves the school (graduates) is not carried."""
    rows = conn.execute(
        f"SELECT subject_id, together FROM combined_classes WHERE class_id IN "
        f"({','.join('?' * len(follows))}) GROUP BY subject_id, together",
        list(follows),
    ).fetchall()
    for subject_id, together in rows:
        classes = together.split("+")
        if not all(c in follows for c in classes):
            continue
        new = "+".join(sorted(follows[c] for c in classes))
        conn.executemany(
            "INSERT OR IGNORE INTO combined_classes VALUES (?, ?, ?)",
            [(subject_id, follows[c], new) for c in classes],
        )


def carry_groups(
    conn: sqlite3.Connection, promoted: list[tuple[str, str, str]], last_day: str, starts: str
) -> None:
    """A promoted pupil (pupil, old class, new class) stays in their groups, for editing: the
    load's groups follow the class (carry_load), and so does who is in which."""
    conn.executemany(
        "INSERT OR IGNORE INTO group_members (student_id, class_id, subject_id, group_name, "
        "starts) SELECT student_id, ?, subject_id, group_name, ? FROM group_members "
        "WHERE student_id = ? AND class_id = ? AND (ends IS NULL OR ends >= ?)",
        [(new, starts, pupil, old, last_day) for pupil, old, new in promoted],
    )


def graduate(conn: sqlite3.Connection, pupils: list[tuple[str, str]], last_day: str) -> None:
    """Graduates leave with the year's last day."""
    conn.executemany(
        "UPDATE memberships SET ends = ? WHERE student_id = ? AND class_id = ? "
        "AND (ends IS NULL OR ends > ?)",
        [(last_day, s, c, last_day) for s, c in pupils],
    )


def record_promotions(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    conn.executemany("INSERT OR REPLACE INTO promotions VALUES (?, ?, ?, ?, ?, ?)", rows)


# --------------------------------------------------------------------------- incoming marks


def add_incoming(conn: sqlite3.Connection, rows: list[tuple]) -> int:
    """Marks from another school's extract; the same extract twice adds nothing. A row is
    the table's columns in order, `special` («н/а», зач/незач, value 0) last."""
    before = conn.total_changes
    conn.executemany(
        "INSERT OR IGNORE INTO incoming_marks (student_id, source_school, source_school_id, "
        "year, class_name, subject, kind, period, value, signed_by, imported_by, imported_at, "
        "special) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return conn.total_changes - before


def incoming(conn: sqlite3.Connection, student_id: str) -> list[dict]:
    rows = conn.execute(
        "SELECT * FROM incoming_marks WHERE student_id = ? ORDER BY year, subject, kind, period",
        (student_id,),
    )
    return [dict(r) for r in rows]
