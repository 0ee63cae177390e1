#!/bin/sh
# Makes /opt/zhurnal/venv from the wheels the package carries (no network); the old one is
# replaced only when the new one works.
set -e
if [ "$1" = "configure" ]; then
    cd "${ZHURNAL_OPT:-/opt/zhurnal}"  # the variable: tests run this on an unpacked tree
    rm -rf venv.new
    python3 -m venv venv.new
    PIP_CONFIG_FILE=/dev/null venv.new/bin/python -m pip --isolated install --no-index --quiet \
        --disable-pip-version-check --find-links wheels -r requirements.txt
    PIP_CONFIG_FILE=/dev/null venv.new/bin/python -m pip --isolated install --no-index --no-deps --quiet \
        --disable-pip-version-check wheels/zhurnal-*.whl
    venv.new/bin/python -P -m client_tui.cli --version >/dev/null
    rm -rf venv.old
    [ -d venv ] && mv venv venv.old
    mv venv.new venv
    rm -rf venv.old
fi
exit 0
