from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.storage.db import connect
from tests.reports_school import database_copy


@pytest.fixture(scope="session")
def reports_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reports-template")


@pytest.fixture
def school_db(reports_template: Path, tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """The fixture school with its autumn recorded (tests/reports_school.py)."""
    config = database_copy(reports_template, tmp_path / "school.sqlite")
    conn = connect(config.database)
    yield conn
    conn.close()
