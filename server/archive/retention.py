"""Retention: the school's schedule, what is due for destruction, the act, the logged removal.

Periods count, as Russian records practice does, from 1 January of the year after the one in
which the file was closed: a journal of 2026/2027 closed in June 2027 is kept 5 years from
1 January 2028 and is due on 1 January 2033. Personal files count from the year the pupil left.

Summary sheets live in the package's summary/ folder and are their own category: destroying a
year's journals removes data/journals/ only, and in the database the journals' lessons,
attendance, marks and history, never the period and year marks the summary sheets are made of.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.archive import keys, personal_file
from server.archive.closing import actor, actor_school
from server.archive.verify import ACTS_FOLDER, is_bag, read_info
from server.errors import BadRequest, NotFound
from server.printing import table_pdf
from server.storage import archive as storage
from server.storage.db import transaction
from shared.model import Role

RECORDS_ROLES = frozenset({Role.RECORDS_OFFICER, Role.DIRECTOR})


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    years: int
    basis: str
    counted_from: str = "закрытия дела"


# REQUIREMENTS.md «Archive and retention»; a school changes the years with `retention set`.
DEFAULTS: tuple[Category, ...] = (
    Category("journals", "Классные журналы", 5, "000 §7.4"),
    Category("summary_sheets", "Сводные ведомости успеваемости", 25, "000 §7.5, 002 §2.8.11"),
    Category("certificate_books", "Книги выдачи аттестатов", 50, "000 §7.9, 004 §2.2.5"),
    Category(
        "personal_files",
        "Личные дела обучающихся (отметки за год)",
        3,
        "000 §7.10, 004 §2.2.3",
        "выбытия обучающегося",
    ),
    Category("exam_protocols", "Протоколы ГИА", 5, "004 §2.2.4, 002 §2.10.3"),
    Category("attestation_protocols", "Протоколы промежуточной аттестации", 3, "002 §2.11–2.13"),
    Category("monitoring_results", "Результаты мониторинга качества (ВСОКО)", 3, "002 §2.13"),
)
CATEGORIES = {c.id: c for c in DEFAULTS}


def schedule(conn: sqlite3.Connection, school_id: str | None = None) -> list[Category]:
    """The retention schedule of one school (each school of a server keeps its own)."""
    overrides = storage.retention_overrides(conn, school_id)
    return [
        Category(c.id, c.title, overrides.get(c.id, c.years), c.basis, c.counted_from)
        for c in DEFAULTS
    ]


def set_years(conn: sqlite3.Connection, category: str, years: int, login: str) -> Category:
    actor(conn, login, RECORDS_ROLES, "сроки хранения меняет документовед или директор")
    if category not in CATEGORIES:
        names = ", ".join(CATEGORIES)
        raise BadRequest(f"Нет такой категории документов: {category}. Есть: {names}.")
    if not 1 <= years <= 100:
        raise BadRequest("Срок хранения — от 1 до 100 лет.")
    school_id = actor_school(conn, login)
    with transaction(conn):
        storage.set_retention(conn, category, years, login, time.time(), school_id)
    return next(c for c in schedule(conn, school_id) if c.id == category)


def due_date(closed_year: int, years: int) -> dt.date:
    """Kept `years` years from 1 January of the year after closing."""
    return dt.date(closed_year + 1 + years, 1, 1)


@dataclass(frozen=True)
class DueItem:
    category: str
    package: str  # the bag's folder name
    item: str  # journal id, pupil id, or the package name for summary sheets
    title: str
    year_name: str
    due_on: dt.date
    files: dict[str, str]  # data path -> SHA-256, from the package's manifest

    def as_dict(self) -> dict:
        return {
            "category": self.category,
            "package": self.package,
            "item": self.item,
            "title": self.title,
            "year_name": self.year_name,
            "due_on": self.due_on.isoformat(),
            "files": self.files,
        }


def _left_on(conn: sqlite3.Connection) -> dict[str, dt.date]:
    """Pupils who left the school (no open class membership) and their last day."""
    rows = conn.execute(
        "SELECT student_id, max(ends) AS last, sum(ends IS NULL) AS open FROM memberships "
        "GROUP BY student_id"
    ).fetchall()
    return {
        r["student_id"]: dt.date.fromisoformat(r["last"])
        for r in rows
        if not r["open"] and r["last"]
    }


def _manifest(bag: Path) -> dict[str, str]:
    entries = {}
    for line in (bag / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines():
        digest, _, path = line.partition(" ")
        entries[path.strip()] = digest
    return entries


def due(conn: sqlite3.Connection, archive: Path, on: dt.date | None = None) -> list[DueItem]:
    """What in the archive folder has reached the end of its retention period by `on`."""
    on = on or dt.date.today()
    schedules: dict[str, dict[str, int]] = {}  # each package by its own school's schedule
    left = _left_on(conn)
    items: list[DueItem] = []
    bags = sorted(p for p in archive.iterdir() if is_bag(p)) if archive.is_dir() else []
    for bag in bags:
        info = read_info(bag)
        closed = info.get("Zhurnal-Closed-On") or info.get("Zhurnal-Year-Ends", "")
        if not closed:
            continue
        closed_year = dt.date.fromisoformat(closed).year
        school_id = info.get("Zhurnal-School-Id") or None
        if school_id not in schedules:
            schedules[school_id] = {c.id: c.years for c in schedule(conn, school_id)}
        years = schedules[school_id]
        year_name = info.get("Zhurnal-Year-Name", "")
        present = {
            path: digest for path, digest in _manifest(bag).items() if (bag / path).is_file()
        }
        contents = json.loads((bag / "data" / "contents.json").read_text(encoding="utf-8"))
        titles = {f"data/{f['path']}": f["title"] for f in contents["files"]}
        groups: dict[tuple[str, str], dict[str, str]] = {}
        package_files: dict[str, str] = {}  # README, contents, directory: go last
        for path, digest in present.items():
            parts = path.split("/")
            if parts[1] == "journals":
                key = ("journals", f"{parts[2]}/{parts[3]}")
            elif parts[1] in ("personal", "portfolio"):  # a portfolio goes with its file
                key = ("personal_files", parts[2])
            elif parts[1] == "summary":
                key = ("summary_sheets", bag.name)
            else:
                package_files[path] = digest
                continue
            groups.setdefault(key, {})[path] = digest
        if package_files and not any(k[0] != "summary_sheets" for k in groups):
            groups.setdefault(("summary_sheets", bag.name), {}).update(package_files)
        for (category, item), files in sorted(groups.items()):
            if category == "personal_files":
                if item not in left:
                    continue
                when = due_date(left[item].year, years[category])
            else:
                when = due_date(closed_year, years[category])
            if when > on:
                continue
            if category == "summary_sheets":
                title = f"Сводные ведомости успеваемости, пакет {bag.name}"
            else:
                pdfs = sorted(files, key=lambda p: (not p.endswith(".pdf"), p))
                title = next((titles[p] for p in pdfs if p in titles), item)
            items.append(DueItem(category, bag.name, item, title, year_name, when, files))
    return items


# ----------------------------------------------------------------- the act


def draft_act(
    conn: sqlite3.Connection,
    archive: Path,
    *,
    number: str,
    login: str,
    on: dt.date | None = None,
) -> tuple[int, bytes, list[DueItem]]:
    """Record a draft act listing everything due; returns (act id, the act's PDF, items)."""
    actor(conn, login, RECORDS_ROLES, "акт об уничтожении составляет документовед")
    on = on or dt.date.today()
    items = due(conn, archive, on)
    if not items:
        raise BadRequest(f"На {on:%d.%m.%Y} нет документов с истёкшим сроком хранения.")
    if storage.act(conn, number) is not None:
        raise BadRequest(f"Акт № {number} уже есть.")
    with transaction(conn):
        act_id = storage.draft_act(conn, number, on, login, [i.as_dict() for i in items])
    return act_id, act_pdf(conn, number, on, items, actor_school(conn, login)), items


def act_pdf(
    conn: sqlite3.Connection,
    number: str,
    on: dt.date,
    items: list[DueItem],
    school_id: str | None = None,
) -> bytes:
    if school_id is None:
        school = conn.execute("SELECT name FROM schools ORDER BY id").fetchone()
    else:
        school = conn.execute("SELECT name FROM schools WHERE id = ?", (school_id,)).fetchone()
    periods = {c.id: c for c in schedule(conn, school_id)}
    rows = [
        [
            n,
            item.title,
            item.year_name,
            f"{periods[item.category].years} лет ({periods[item.category].basis})",
            len(item.files),
        ]
        for n, item in enumerate(items, start=1)
    ]
    return table_pdf(
        f"Акт № {number} о выделении к уничтожению документов, не подлежащих хранению",
        ["№", "Заголовок дела", "Учебный год", "Срок хранения", "Файлов"],
        rows,
        subtitle=(
            f"{school['name'] if school else ''}, {on:%d.%m.%Y}. На основании сроков хранения, "
            "установленных локальным актом школы, к уничтожению отобраны документы:"
        ),
        notes=[
            "Сводные ведомости успеваемости хранятся отдельно и с журналами не уничтожаются.",
            "Председатель комиссии ____________________   Документовед ____________________",
            "УТВЕРЖДАЮ: Директор ____________________   «___» ____________ 20__ г.",
        ],
        timestamp=dt.datetime.combine(on, dt.time(12), dt.UTC),
    )


def record_act(
    conn: sqlite3.Connection,
    archive: Path,
    *,
    number: str,
    login: str,
    key: Ed25519PrivateKey,
) -> list[dict]:
    """The act is signed on paper: remove what it lists and log every removal.

    A signed record of the act goes into the archive folder first, so `journal-archive
    verify` accepts exactly these files as missing and no others; then the files are removed,
    then the journals' rows in the database (period and year marks stay)."""
    actor(conn, login, RECORDS_ROLES, "уничтожение по акту проводит документовед")
    act = storage.act(conn, number)
    if act is None:
        raise NotFound(f"Акт № {number} не найден.")
    if act["recorded_at"] is not None:
        raise BadRequest(f"Акт № {number} уже исполнен.")
    packages: dict[str, dict[str, str]] = {}
    for item in act["items"]:
        packages.setdefault(item["package"], {}).update(item["files"])
    record = json.dumps(
        {"number": number, "drafted_on": act["drafted_on"], "packages": packages},
        ensure_ascii=False,
        indent=1,
        sort_keys=True,
    ).encode()
    folder = archive / ACTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stem = "act-" + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in number)
    (folder / f"{stem}.json").write_bytes(record)
    (folder / f"{stem}.json.sig").write_text(
        keys.sign_file(key, f"{stem}.json", record), encoding="utf-8"
    )
    now = time.time()
    log = []
    with transaction(conn):
        for item in act["items"]:
            for path in sorted(item["files"]):
                (archive / item["package"] / path).unlink(missing_ok=True)
            detail = f"файлов удалено из пакета {item['package']}: {len(item['files'])}"
            if item["category"] == "journals":
                year_id = read_info(archive / item["package"]).get("Zhurnal-Year-Id", "")
                class_id, subject_id = item["item"].split("/")
                removed = storage.remove_journal_records(conn, f"{year_id}~{class_id}~{subject_id}")
                detail += "; из базы: " + ", ".join(f"{t} {n}" for t, n in removed.items())
            elif item["category"] == "personal_files":
                year_id = read_info(archive / item["package"]).get("Zhurnal-Year-Id", "")
                removed_marks = personal_file.remove(conn, item["item"], year_id)
                detail += f"; из базы: personal_file {removed_marks}"
            storage.log_removal(conn, act["id"], item["category"], item["item"], detail, login, now)
            log.append({"category": item["category"], "item": item["item"], "detail": detail})
        storage.mark_act_recorded(conn, act["id"], login, now)
    return log
