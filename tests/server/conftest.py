"""The fixture school's server, a fresh copy per test (tests/server/school_kit.py).

Modules written before this file define the same fixture themselves; theirs wins there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.config import ServerConfig
from tests.server.school_kit import SchoolServer, template


@pytest.fixture
def server(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchoolServer]:
    db, tokens = template(tmp_path_factory.getbasetemp())
    with SchoolServer(db, tokens, tmp_path) as school:
        yield school


@pytest.fixture
def db(server_config: ServerConfig) -> Path:
    """The fixture school's database file (a year, classes, accounts), this test's copy."""
    return server_config.database
