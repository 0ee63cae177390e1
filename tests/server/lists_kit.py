"""A school brought in from its own lists (scripts/school_lists.py), for server tests that need
a school shaped like a real one: its database, and a connection to it per test."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from scripts.school_lists import csv_bytes, xlsx_bytes
from server import lists
from server.auth.principal import Principal
from server.config import ServerConfig
from server.importer import add_school
from server.lists import ListKind
from server.lists.specs import LOAD_ORDER
from server.storage.db import connect, create_schema
from shared.model import Role


def school_from_lists(
    folder: Path,
    rows: dict[ListKind, list[tuple[str, ...]]],
    *,
    kinds: Iterable[ListKind] = LOAD_ORDER,
    xlsx: Iterable[ListKind] = (),
    name: str = "МБОУ «Тестовая СОШ»",
    first_year: int = 2026,
) -> ServerConfig:
    """School `sch` (its year `first_year`/+1) with `kinds` of its lists applied on the year's
    first day, those in `xlsx` as Excel files, the others as CSV."""
    config = ServerConfig(database=folder / "server.sqlite")
    conn = connect(config.database)
    create_schema(conn)
    add_school(conn, school_id="sch", name=name, district="Р", first_year=first_year)
    excel = set(xlsx)
    for kind in kinds:
        data = xlsx_bytes(kind, rows[kind]) if kind in excel else csv_bytes(kind, rows[kind])
        lists.apply(conn, kind, data, today=dt.date(first_year, 9, 1))
    conn.close()
    return config


def deputy(conn: sqlite3.Connection) -> Principal:
    """The deputy director of the lists' school (Орлова Вера Ивановна), as a principal."""
    person = conn.execute("SELECT id FROM staff WHERE last_name = 'Орлова'").fetchone()[0]
    return Principal(
        login="deputy", role=Role.DEPUTY, roles=(Role.DEPUTY,), person_id=person,
        device_id="", school_id="sch",
    )  # fmt: skip
