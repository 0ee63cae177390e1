"""A teacher at the real `journal` command in a real terminal (tmux), against a real server
process: first run, a lesson typed from the keyboard, sync, and a start with the server gone."""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scripts.badlink.live import LiveServer, child_env
from tests.factories import MATH_5, PASSWORD

pytestmark = pytest.mark.slow

TMUX = shutil.which("tmux")


class Terminal:
    """One tmux session on a private tmux server (its own socket), 80×24 like an old laptop."""

    def __init__(self, socket: str):
        self.socket = socket
        self.name = "zh"

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            [TMUX, "-L", self.socket, *args], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start(self, command: list[str], env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        line = f"env {exports} {shlex.join(command)}; echo EXITED $?; sleep 600"
        self.tmux("new-session", "-d", "-s", self.name, "-x", "80", "-y", "24", line)

    def keys(self, *keys: str) -> None:
        """tmux key names (Enter, F3, C-q…); one key per call so the app sees each press."""
        for key in keys:
            self.tmux("send-keys", "-t", self.name, key)
            time.sleep(0.05)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.name, "-l", text)
        time.sleep(0.05)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"«{text}» did not appear on the screen:\n{screen}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True, timeout=30)


@pytest.fixture
def terminal() -> Iterator[Callable[[], Terminal]]:
    if TMUX is None:
        pytest.skip("tmux is not installed (apt-get install tmux): the terminal test needs it")
    made: list[Terminal] = []

    def make() -> Terminal:
        made.append(Terminal(f"zhurnal-test-{uuid.uuid4().hex[:8]}"))
        return made[-1]

    yield make
    for term in made:
        term.close()


def journal_command() -> list[str]:
    script = Path(sys.executable).parent / "journal"
    return [str(script)] if script.exists() else [sys.executable, "-m", "client_tui.cli"]


def app_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in child_env().items() if k in ("PATH", "PYTHONPATH", "HOME", "LANG")}
    return env | {"ZHURNAL_HOME": str(home), "TERM": "xterm-256color", "LANG": "C.UTF-8"}


def first_login(term: Terminal, url: str) -> None:
    term.wait_for("первый вход")
    term.type(url)
    term.keys("Enter")
    term.type("math")
    term.keys("Enter")
    term.type(PASSWORD)
    term.keys("Enter")


def test_teacher_keeps_a_lesson_in_the_terminal_app(live_server: LiveServer, terminal, tmp_path):
    home = tmp_path / "laptop"
    term = terminal()
    term.start(journal_command(), app_env(home))
    first_login(term, live_server.url)
    screen = term.wait_for("Мои журналы")
    assert "только чтение" in screen  # the class teacher's view of another subject

    term.keys("Enter")  # the first journal: 5 · Математика
    term.wait_for("5 · Математика")
    term.keys("F3")  # a new lesson: the date is asked, Enter takes today
    term.wait_for("Дата урока")
    term.keys("Enter")
    term.wait_for("новый урок")
    term.keys("=")  # everyone present
    term.keys("5", "Enter")
    term.type("н")
    term.keys("Enter", "4")
    term.type("5")  # pupil 3 already has a 4: this replaces it (same day, no reason asked)
    term.keys("Up")
    term.type("5")  # a mark for the absent pupil: refused at the keyboard
    screen = term.wait_for("Отметка отсутствующему не ставится")
    term.keys("F5")
    screen = term.wait_for("ждут отправки: 0")
    assert "связь: есть" in screen

    with sqlite3.connect(live_server.db) as conn:
        marks = conn.execute(
            "SELECT student_id, value FROM marks WHERE journal_id = ? ORDER BY student_id",
            (MATH_5,),
        ).fetchall()
        absent = conn.execute(
            "SELECT student_id FROM attendance WHERE journal_id = ? AND code = 'absent'",
            (MATH_5,),
        ).fetchall()
    assert marks == [("s-1", 5), ("s-3", 5)]
    assert absent == [("s-2",)]

    term.keys("C-q")
    term.wait_for("EXITED 0")

    live_server.stop()  # the link is gone: the next start works from the local store
    again = terminal()
    again.start(journal_command(), app_env(home))
    again.wait_for("Журнал зашифрован на этом компьютере")  # unlocked offline, by password
    again.type("не тот пароль")
    again.keys("Enter")
    again.wait_for("Пароль не подходит")
    again.type(PASSWORD)
    again.keys("Enter")
    again.wait_for("Мои журналы")
    again.wait_for("связь: НЕТ")
    again.keys("Enter")
    screen = again.wait_for("5 · Математика")
    assert "5" in screen and "н" in screen
    again.keys("C-q")
    again.wait_for("EXITED 0")
    assert os.path.exists(home / "default" / "store.sqlite")


# Three lessons today, starting on the newest one's first pupil; right to left, 30 keys.
BURST_30 = [
    *["5", "Enter", "н", "Enter", "4", "Enter", "о", "3"],
    *["Left", "Up", "Up", "Up"],
    *["3", "Enter", "2", "Enter", "у", "Enter", "5"],
    *["Left", "Up", "Up", "Up"],
    *["б", "Enter", "4", "Enter", "5", "Enter", "н"],
]
BURST_MARKS = {
    (3, "s-1"): 5,
    (3, "s-3"): 4,
    (3, "s-4"): 3,
    (2, "s-1"): 3,
    (2, "s-2"): 2,
    (2, "s-4"): 5,
    (1, "s-2"): 4,
    (1, "s-3"): 5,
}
BURST_ATTENDANCE = {
    (3, "s-2"): "absent",
    (3, "s-4"): "late",
    (2, "s-3"): "excused",
    (1, "s-1"): "ill",
    (1, "s-4"): "absent",
}


def burst_rows(db: Path) -> tuple[dict, dict]:
    with sqlite3.connect(db) as conn:
        marks = conn.execute(
            "SELECT l.slot, m.student_id, m.value FROM marks m JOIN lessons l "
            "ON l.journal_id = m.journal_id AND l.lesson_id = m.lesson_id WHERE m.journal_id = ?",
            (MATH_5,),
        ).fetchall()
        attendance = conn.execute(
            "SELECT l.slot, a.student_id, a.code FROM attendance a JOIN lessons l "
            "ON l.journal_id = a.journal_id AND l.lesson_id = a.lesson_id "
            "WHERE a.journal_id = ? AND a.code != 'present'",
            (MATH_5,),
        ).fetchall()
    return {(s, p): v for s, p, v in marks}, {(s, p): c for s, p, c in attendance}


def test_a_30_key_burst_in_one_send_keys_lands_in_every_cell(
    live_server: LiveServer, terminal, tmp_path
):
    term = terminal()
    term.start(journal_command(), app_env(tmp_path / "laptop"))
    first_login(term, live_server.url)
    term.wait_for("Мои журналы")
    term.keys("Enter")
    term.wait_for("5 · Математика")
    for lesson in (1, 2, 3):
        term.keys("F3")
        term.wait_for("Дата урока")
        term.keys("Enter")
        term.wait_for(f"урок {lesson}" if lesson > 1 else "Сохранено: новый урок")
    # the whole burst in ONE send-keys: the terminal delivers it as a single read
    term.tmux("send-keys", "-t", term.name, *BURST_30, "F5")
    deadline = time.monotonic() + 120
    while burst_rows(live_server.db) != (BURST_MARKS, BURST_ATTENDANCE):
        if time.monotonic() > deadline:
            raise AssertionError(f"{burst_rows(live_server.db)}\n{term.screen()}")
        time.sleep(0.5)
    term.wait_for("ждут отправки: 0")
    term.keys("C-q")
    term.wait_for("EXITED 0")
