#!/usr/bin/env bash
# Install into .venv, create the database with the demo school (once), start the server.
# Usage: ./scripts/demo.sh [--port 8000] [--host 127.0.0.1]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
exec .venv/bin/journal-server --db "${ZHURNAL_DB:-var/zhurnal.sqlite}" demo "$@"
