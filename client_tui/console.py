"""The terminal a teacher runs `journal` in, on Linux or Windows: the password prompt and
output that never dies on a character the console's code page lacks."""

from __future__ import annotations

import getpass
import os
import sys
import warnings


class NoPassword(Exception):
    message_ru = (
        "Пароль не введён: запустите команду в окне терминала (она спросит пароль), "
        "передайте его одной строкой на вход команды или в переменной ZHURNAL_PASSWORD."
    )


def read_password(prompt: str = "Пароль: ") -> str:
    """From $ZHURNAL_PASSWORD, else asked at the terminal without echo, else one line of
    standard input (a script's pipe). getpass alone, with no terminal, ends in a termios
    traceback or a warning; this ends in a Russian message instead."""
    password = os.environ.get("ZHURNAL_PASSWORD")
    if password:
        return password
    stdin = sys.stdin
    if stdin is not None and stdin.isatty():
        try:
            return getpass.getpass(prompt)
        except EOFError:
            raise NoPassword() from None
    line = stdin.readline() if stdin is not None else ""
    password = line.rstrip("\r\n")
    if not password:
        raise NoPassword()
    return password


def configure_output() -> None:
    """Russian text on any console: a Windows terminal or a pipe with a legacy code page
    (cp866, cp1251) prints «?» for a character it lacks instead of raising in the middle of
    a command."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reconfigure(errors="replace")
