#!/usr/bin/env bash
# Run the whole test suite: installs the project and its test tools into .venv first, then
# ruff, mypy ([tool.mypy] in pyproject.toml) and pytest.
# Usage: ./scripts/test.sh [pytest arguments]; ./scripts/test.sh -m "not slow" for the fast set
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh --dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
