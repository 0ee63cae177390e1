"""argparse's own words in Russian in all three commands a person types: `journal` (the
teacher's), `journal-server` (the school's administrator's) and `journal-archive` (whoever
checks an archive years later). Help texts are each command's own; these tests look for what
argparse itself would have written in English."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterator

import pytest

from client_tui import cli as client_cli
from server import cli as server_cli
from server.archive import verify_cli
from shared.russian_argparse import RussianArgumentParser

# What argparse writes in English (its gettext messages, Python 3.11-3.13).
ARGPARSE_ENGLISH = re.compile(
    r"usage:|positional arguments|optional arguments|options:|show this help|error:|"
    r"required|unrecognized|invalid|expected|choose from|not allowed|ambiguous|ignored explicit"
    r"|\bargument",
    re.IGNORECASE,
)
COMMANDS: dict[str, Callable[[], argparse.ArgumentParser]] = {
    "journal": client_cli.build_parser,
    "journal-server": server_cli.build_parser,
    "journal-archive": verify_cli.build_parser,
}


def parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple]:
    """(path, parser) for the command and every subcommand under it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from parsers(child, (*path, name))


def run(build: Callable[[], argparse.ArgumentParser], argv: list[str], capsys) -> tuple | None:
    """(exit code, stdout, stderr) of parsing `argv`; None when it parses (the command runs)."""
    try:
        build().parse_args(argv)
    except SystemExit as stop:
        out, err = capsys.readouterr()
        return stop.code, out, err
    return None


def error_of(build: Callable[[], argparse.ArgumentParser], argv: list[str], capsys) -> str:
    result = run(build, argv, capsys)
    assert result is not None and result[0] == 2, (argv, result)
    return result[2]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_help_is_russian(command, capsys):
    build = COMMANDS[command]
    found = list(parsers(build()))
    assert len(found) > 1  # the subcommands were walked
    for path, parser in found:
        assert isinstance(parser, RussianArgumentParser), path
        result = run(build, [*path, "--help"], capsys)
        assert result is not None and result[0] == 0
        out = result[1]
        assert out.startswith(f"Использование: {command}"), out
        assert "параметры:" in out and "показать эту справку и выйти" in out
        assert not ARGPARSE_ENGLISH.search(out), (path, out)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_usage_errors_are_russian(command, capsys):
    """Each subcommand with an option it does not have, and with none of its arguments."""
    build = COMMANDS[command]
    for path, _ in parsers(build()):
        for argv in ([*path, "--no-such-option"], list(path)):
            result = run(build, argv, capsys)
            if result is None:
                continue  # nothing was missing: the command would run
            code, out, err = result
            assert code == 2 and out == "", argv
            assert err.startswith("Использование: ") and ": ошибка: " in err, (argv, err)
            assert not ARGPARSE_ENGLISH.search(err), (argv, err)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["scale", "--by", "deputy"],
            "journal-server scale: ошибка: не хватает обязательных: ШКАЛА",
        ),
        (["serve", "--port", "восемь"], "аргумент --port: не подходит как целое число: 'восемь'"),
        (["import", "pupils"], "не хватает обязательных: ФАЙЛ"),
        (["archive-key", "make"], "неизвестный выбор 'make' (можно: 'init', 'show')"),
        (["нет-такой"], "journal-server: ошибка: аргумент команда: неизвестный выбор 'нет-такой'"),
    ],
)
def test_server_errors_name_what_is_wrong(argv, said, capsys):
    assert said in error_of(server_cli.build_parser, argv, capsys)


def test_archive_check_names_the_missing_folder_and_key(capsys):
    err = error_of(verify_cli.build_parser, ["verify"], capsys)
    assert "journal-archive verify: ошибка: не хватает обязательных: ПАПКА, --key" in err


def test_the_clients_old_import_still_works():
    from client_tui.russian_argparse import RussianArgumentParser as Old

    assert Old is RussianArgumentParser
