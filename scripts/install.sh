#!/usr/bin/env bash
# Create .venv and install the project (with --dev: and its test tools). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
extras=""
[ "${1:-}" = "--dev" ] && extras="[dev]"
stamp=".venv/.installed${extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".${extras}"
    touch "$stamp"
fi
# Browser tests drive Debian's chromium through Playwright (executable_path): no browser
# download; one test types into the real `journal` command in tmux. Both are installed with the
# test tools when missing and apt is at hand (the tests say why they skip otherwise). The
# network-namespace link (scripts/badlink/netns.py) needs ip and tc (iproute2), iptables for
# loss and resets, and curl for its tests.
if [ "${1:-}" = "--dev" ] && command -v apt-get >/dev/null 2>&1; then
    missing=""
    command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
    command -v tmux >/dev/null 2>&1 || missing="$missing tmux"
    command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
    command -v iptables >/dev/null 2>&1 || missing="$missing iptables"
    command -v curl >/dev/null 2>&1 || missing="$missing curl"
    if [ -n "$missing" ]; then
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        # shellcheck disable=SC2086
        $SUDO apt-get update -qq >/dev/null \
            && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null \
            || echo "not installed:$missing; the tests that need them will be skipped" >&2
    fi
fi
