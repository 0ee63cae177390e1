"""Helpers for the bundle tests: the wheel folders, downloaded once and kept in pytest's cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.install.builder import download_wheels
from server.install.wheels import PYTHON_VERSIONS, Target, client_requirements

ROOT = Path(__file__).resolve().parents[2]


def cached_wheels(config: pytest.Config, target: Target) -> Path:
    """The client's wheel set for `target`, made with pip download the first time only: a
    complete folder in the cache is checked and reused without any request."""
    folder = config.cache.mkdir("zhurnal-bundle-wheels") / target.name
    download_wheels(client_requirements(ROOT / "pyproject.toml"), target, PYTHON_VERSIONS, folder)
    return folder
