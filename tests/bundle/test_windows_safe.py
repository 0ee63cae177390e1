"""The laptop's code runs on Windows: no POSIX-only module or function on a teacher's path.

A static check (AST), run on Linux: an import of a POSIX-only module, or a use of a POSIX-only
`os`/`signal` name, is allowed only inside guarded code — under `if sys.platform …`,
`if os.name …`, `if hasattr(…)`, or in a `try` that catches ImportError/AttributeError.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import pytest

from client_tui.console import NoPassword, read_password

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("client_tui", "shared")

POSIX_ONLY_MODULES = {
    "termios", "tty", "pty", "fcntl", "grp", "pwd", "resource", "posix", "crypt", "spwd",
    "syslog", "nis", "readline", "curses", "_curses", "posixpath", "pipes",
}  # fmt: skip
POSIX_ONLY_NAMES = {
    "os": {"fork", "forkpty", "getuid", "geteuid", "getgid", "setsid", "setuid", "killpg",
           "getpgid", "setpgrp", "nice", "mkfifo", "uname", "chown", "lchown", "sync",
           "getloadavg", "statvfs", "pipe2", "wait3", "wait4", "sched_getaffinity"},
    "signal": {"SIGPIPE", "SIGHUP", "SIGKILL", "SIGALRM", "SIGUSR1", "SIGUSR2", "SIGCHLD",
               "SIGQUIT", "SIGSTOP", "SIGCONT", "SIGTSTP", "alarm", "pause", "setitimer",
               "siginterrupt", "pthread_kill", "pthread_sigmask"},
}  # fmt: skip
GUARD_ERRORS = {"ImportError", "ModuleNotFoundError", "AttributeError", "OSError"}


def _is_platform_test(test: ast.expr) -> bool:
    """`sys.platform …`, `os.name …`, `platform.system() …` or `hasattr(…)` anywhere in it."""
    for node in ast.walk(test):
        if isinstance(node, ast.Attribute) and (
            (node.attr == "platform" and isinstance(node.value, ast.Name))
            or (node.attr == "name" and isinstance(node.value, ast.Name) and node.value.id == "os")
            or node.attr == "system"
        ):
            return True
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "hasattr":
            return True
    return False


def _catches(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(getattr(n, "id", getattr(n, "attr", "")) in GUARD_ERRORS for n in names)


def unguarded_posix_uses(source: str, filename: str) -> list[str]:
    """`file:line what` for each POSIX-only import or name outside guarded code."""
    tree = ast.parse(source, filename)
    found: list[str] = []

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, ast.If | ast.IfExp) and _is_platform_test(node.test):
            guarded_children = node.body if isinstance(node, ast.If) else [node.body]
            for child in guarded_children:
                visit(child, True)
            for child in node.orelse if isinstance(node, ast.If) else [node.orelse]:
                visit(child, True)
            return
        if isinstance(node, ast.Try) and any(_catches(h) for h in node.handlers):
            for child in node.body:
                visit(child, True)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(child, guarded)
            return
        if not guarded:
            what = None
            if isinstance(node, ast.Import):
                bad = [a.name for a in node.names if a.name.split(".")[0] in POSIX_ONLY_MODULES]
                what = f"import {', '.join(bad)}" if bad else None
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module.split(".")[0] in POSIX_ONLY_MODULES:
                    what = f"from {node.module} import …"
                elif node.module in POSIX_ONLY_NAMES:
                    bad = [a.name for a in node.names if a.name in POSIX_ONLY_NAMES[node.module]]
                    what = f"from {node.module} import {', '.join(bad)}" if bad else None
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.attr in POSIX_ONLY_NAMES.get(node.value.id, ())
            ):
                what = f"{node.value.id}.{node.attr}"
            if what:
                found.append(f"{filename}:{node.lineno} {what}")
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(tree, False)
    return found


def test_laptop_code_uses_no_posix_only_module_outside_guarded_code():
    files = sorted(p for folder in CHECKED for p in (ROOT / folder).rglob("*.py"))
    assert len(files) > 20
    found = [
        use
        for path in files
        for use in unguarded_posix_uses(path.read_text("utf-8"), str(path.relative_to(ROOT)))
    ]
    assert found == [], "POSIX-only on the laptop's path (fails on Windows):\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import termios\n", True),
        ("import os, fcntl\n", True),
        ("from pwd import getpwnam\n", True),
        ("import os\nos.fork()\n", True),
        ("import signal\nsignal.signal(signal.SIGPIPE, signal.SIG_DFL)\n", True),
        ("from os import getuid\n", True),
        ("def f():\n    import tty\n", True),
        ("import sys\nif sys.platform != 'win32':\n    import termios\n", False),
        ("import os\nif os.name == 'posix':\n    os.setsid()\n", False),
        ("try:\n    import fcntl\nexcept ImportError:\n    fcntl = None\n", False),
        ("import signal\nif hasattr(signal, 'SIGPIPE'):\n    signal.signal(signal.SIGPIPE, 0)\n",
         False),
        ("try:\n    import fcntl\nexcept ValueError:\n    pass\n", True),
        ("import os, getpass\nos.getcwd()\n", False),
    ],
)  # fmt: skip
def test_the_check_tells_guarded_from_unguarded_code(source, bad):
    assert bool(unguarded_posix_uses(source, "x.py")) is bad


def test_login_without_a_terminal_ends_in_a_russian_message(monkeypatch):
    """Before: getpass with no terminal fell into termios and ended in a traceback."""
    import io

    monkeypatch.delenv("ZHURNAL_PASSWORD", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(NoPassword) as refused:
        read_password()
    assert "ZHURNAL_PASSWORD" in refused.value.message_ru
    monkeypatch.setattr(sys, "stdin", io.StringIO("секрет\n"))
    assert read_password() == "секрет"
    monkeypatch.setenv("ZHURNAL_PASSWORD", "из окружения")
    assert read_password() == "из окружения"


def test_journal_login_with_no_terminal_at_all_prints_russian_not_a_traceback(tmp_path):
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "ZHURNAL_PASSWORD"}
    env["ZHURNAL_HOME"] = str(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "client_tui.cli",
            "login",
            "--server",
            "http://127.0.0.1:9",
            "--login",
            "math",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        start_new_session=True,  # no controlling terminal: /dev/tty cannot be opened
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "Пароль не введён" in done.stderr


def test_data_stays_where_linux_laptops_keep_it_today(monkeypatch, tmp_path):
    from client_tui.services.session import default_home

    monkeypatch.delenv("ZHURNAL_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_home() == tmp_path / ".local" / "share" / "zhurnal"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_home() == tmp_path / "xdg" / "zhurnal"
    monkeypatch.setenv("ZHURNAL_HOME", str(tmp_path / "own"))
    assert default_home() == tmp_path / "own"


@pytest.mark.parametrize("encoding", ["ascii", "cp866", "cp1251"])
def test_russian_help_prints_on_a_legacy_console_code_page(encoding):
    """A Windows console or a redirected pipe may use cp866/cp1251 (no «» or №): the text is
    printed with «?» for what the code page lacks instead of dying in UnicodeEncodeError."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "client_tui.cli", "--help"],
        env={**os.environ, "PYTHONIOENCODING": encoding},
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Traceback" not in done.stderr
    text = done.stdout.decode(encoding, errors="strict")
    assert "journal [-h]" in text  # the usage line, whatever the console can show
    if encoding != "ascii":
        assert "Использование: journal" in text and "Электронный журнал учителя" in text


def test_a_windows_laptop_with_data_in_the_old_place_keeps_using_it(monkeypatch, tmp_path):
    """Before platformdirs every system used ~/.local/share/zhurnal; a Windows laptop that
    has data there keeps it instead of starting empty in %LOCALAPPDATA%."""
    import platformdirs

    from client_tui.services.session import default_home

    monkeypatch.delenv("ZHURNAL_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    appdata = tmp_path / "AppData" / "Local" / "zhurnal"
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda *a, **k: str(appdata))
    assert default_home() == appdata  # nothing anywhere: the platform's place
    legacy = tmp_path / ".local" / "share" / "zhurnal"
    (legacy / "default").mkdir(parents=True)
    assert default_home() == legacy
    appdata.mkdir(parents=True)
    assert default_home() == appdata  # once the new place exists, it wins
