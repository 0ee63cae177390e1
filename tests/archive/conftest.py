"""An archived year of the report fixture school (tests/reports_school.py), built once per
session: closed on 20.06.2027, one authorised correction, signed with a fresh key. Tests that
change files work on a copy."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from server.archive import keys
from server.archive.closing import close_year
from server.archive.package import PackageResult, build_package
from server.config import ServerConfig
from server.storage.db import connect
from tests.factories import YEAR
from tests.reports_school import database_copy

CLOSED_ON = dt.date(2027, 6, 20)
PRINTED_AT = dt.datetime(2027, 6, 21, 9, 30, tzinfo=dt.UTC)


@dataclass
class Archived:
    config: ServerConfig
    folder: Path  # the archive folder (the chain lives here)
    package: PackageResult
    private_key: Path
    public_key: Path

    @property
    def bag(self) -> Path:
        return self.folder / self.package.name


def make_archive(base: Path, template: Path | None = None) -> Archived:
    config = database_copy(template or base / "template", base / "school.sqlite")
    conn = connect(config.database)
    try:
        close_year(conn, login="records", year_id=YEAR, on=CLOSED_ON)
        private = base / "keys" / "archive-key.pem"
        key = keys.generate(private, password=b"")
        package = build_package(
            conn, out_dir=base / "archive", key=key, login="records", now=PRINTED_AT
        )
    finally:
        conn.close()
    return Archived(
        config=config,
        folder=base / "archive",
        package=package,
        private_key=private,
        public_key=private.with_name(private.name + ".pub"),
    )


@pytest.fixture(scope="session")
def school_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the report fixture school's database is built once per session."""
    return tmp_path_factory.mktemp("school-template")


@pytest.fixture(scope="session")
def archived_once(tmp_path_factory: pytest.TempPathFactory, school_template: Path) -> Archived:
    return make_archive(tmp_path_factory.mktemp("archived"), school_template)


@pytest.fixture
def school(school_template: Path, tmp_path: Path) -> ServerConfig:
    """A fresh copy of the report fixture school, its year not yet closed."""
    return database_copy(school_template, tmp_path / "school.sqlite")


@pytest.fixture
def archived(archived_once: Archived, tmp_path: Path) -> Archived:
    """A private copy of the archived school: its database, archive folder and keys."""
    shutil.copytree(archived_once.folder, tmp_path / "archive")
    shutil.copytree(archived_once.private_key.parent, tmp_path / "keys")
    shutil.copy(archived_once.config.database, tmp_path / "school.sqlite")
    return Archived(
        config=ServerConfig(database=tmp_path / "school.sqlite"),
        folder=tmp_path / "archive",
        package=archived_once.package,
        private_key=tmp_path / "keys" / archived_once.private_key.name,
        public_key=tmp_path / "keys" / archived_once.public_key.name,
    )
