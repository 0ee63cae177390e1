#!/usr/bin/env bash
# Install into .venv, create the database with the demo school (once), start the server.
# Usage: ./scripts/demo.sh [--port 8000] [--host 127.0.0.1]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
# A demo database left by an older release is brought up to this one (a real server's is not:
# its administrator backs it up first, see README "Backups and upgrades").
.venv/bin/journal-server --db "${ZHURNAL_DB:-var/zhurnal.sqlite}" upgrade >/dev/null
exec .venv/bin/journal-server --db "${ZHURNAL_DB:-var/zhurnal.sqlite}" demo "$@"
