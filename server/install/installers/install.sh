#!/bin/sh
# Устанавливает или обновляет программу «Журнал» из этой папки, без интернета.
# Installs or updates the teacher's app from this folder only (pip --no-index): a new
# environment is made beside the old one and takes its place only once it works, so a failed
# update leaves the installed app, and the journal data (never touched here), as they were.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${ZHURNAL_PREFIX:-${XDG_DATA_HOME:-$HOME/.local/share}/zhurnal-app}
BIN=${ZHURNAL_BIN:-$HOME/.local/bin}
say() { printf '%s\n' "$*"; }
fail() { say "ОШИБКА: $*" >&2; exit 1; }

say "Журнал: установка версии $(cat "$HERE/VERSION") из $HERE"
PY=""
for candidate in ${ZHURNAL_PYTHON:-} python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
        PY=$(command -v "$candidate"); break
    fi
done
[ -n "$PY" ] || fail "нужен Python 3.11 или новее. Установите пакет python3 (3.11+) с диска \
дистрибутива или попросите администратора; затем запустите эту программу снова."
say "Шаг 1 из 3: Python найден: $PY ($("$PY" -c 'import platform; print(platform.python_version())'))"

mkdir -p "$PREFIX"
NEW="$PREFIX/venv.new"
rm -rf "$NEW"
"$PY" -m venv "$NEW" >/dev/null 2>&1 || { rm -rf "$NEW"; fail "не удалось создать окружение \
Python. В Astra Linux, Debian и Ubuntu установите пакет python3-venv и запустите снова."; }
say "Шаг 2 из 3: установка пакетов из папки (без интернета)…"
export PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_CONSTRAINT 2>/dev/null || true
if ! "$NEW/bin/python" -m pip --isolated install --no-index --find-links "$HERE/wheels" --quiet \
        -r "$HERE/requirements.txt" ||
   ! "$NEW/bin/python" -m pip --isolated install --no-index --no-deps --quiet "$HERE"/wheels/zhurnal-*.whl ||
   ! "$NEW/bin/python" -P -m client_tui.cli --version >/dev/null; then
    rm -rf "$NEW"
    fail "установка не удалась; прежняя версия программы и все записи журнала не тронуты."
fi
[ -d "$PREFIX/venv" ] && mv "$PREFIX/venv" "$PREFIX/venv.old"
mv "$NEW" "$PREFIX/venv"
rm -rf "$PREFIX/venv.old"

say "Шаг 3 из 3: ярлык «Журнал»…"
mkdir -p "$BIN"
cat > "$BIN/journal" <<LAUNCHER
#!/bin/sh
# -P: the current folder is not on the import path (a folder named client_tui there is not us)
exec "$PREFIX/venv/bin/python" -P -m client_tui.cli "\$@"
LAUNCHER
chmod 755 "$BIN/journal"
APPS=${XDG_DATA_HOME:-$HOME/.local/share}/applications
mkdir -p "$APPS"
sed "s|^Exec=.*|Exec=$BIN/journal|" "$HERE/zhurnal.desktop" > "$APPS/zhurnal.desktop"
DESKTOP=$(xdg-user-dir DESKTOP 2>/dev/null || true)
[ -n "$DESKTOP" ] && [ -d "$DESKTOP" ] && cp "$APPS/zhurnal.desktop" "$DESKTOP/zhurnal.desktop" &&
    chmod 755 "$DESKTOP/zhurnal.desktop" || true
say "Готово: $("$BIN/journal" --version). Значок «Журнал» — в меню программ (и на рабочем столе);"
say "в терминале: journal (если команда не найдена, откройте терминал заново)."
