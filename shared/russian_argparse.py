"""argparse speaking Russian: a parser and a help formatter subclass, no change to the stdlib.

argparse writes its own words (usage, group titles, -h's help, errors) in English through
gettext; a teacher reads `journal --help` and its errors in Russian, and so does the school's
administrator `journal-server --help` and `journal-archive --help`. The parser adds its own
-h/--help, names its groups, and translates argparse's error sentences by pattern."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from typing import Any, NoReturn

# Placeholders shown after an option or for a positional argument, instead of DEST in capitals.
METAVARS = {
    "server": "АДРЕС",
    "login": "ЛОГИН",
    "device_name": "НАЗВАНИЕ",
    "journal": "ЖУРНАЛ",
    "month": "МЕСЯЦ",
    "date": "ДАТА",
    "topic": "ТЕМА",
    "homework": "ЗАДАНИЕ",
    "kind": "ВИД",
    "slot": "НОМЕР",
    "edit": "ЧТО",
    "reason": "ПРИЧИНА",
    "lesson": "УРОК",
    "student": "УЧЕНИК",
    "students": "УЧЕНИКИ",
    "value": "ОТМЕТКА",
    "weight": "ВЕС",
    "code": "КОД",
    "period": "КОЛОНКА",
    "na_reason": "ПРИЧИНА",
    "document": "ДОКУМЕНТ",
    "exempt_from": "ДАТА",
    "exempt_to": "ДАТА",
    "event": "ЗАПИСЬ",
    "title": "НАЗВАНИЕ",
    "area": "ОБЛАСТЬ",
    "level": "УРОВЕНЬ",
    "result": "РЕЗУЛЬТАТ",
    "organiser": "ОРГАНИЗАТОР",
    "file": "ФАЙЛ",
    "achievement": "ДОСТИЖЕНИЕ",
    "interval": "СЕКУНДЫ",
    "profile": "ПРОФИЛЬ",
    "home": "ПАПКА",
    "url": "АДРЕС",
    # journal-server and journal-archive
    "archive": "ПАПКА",
    "bundle": "ФАЙЛ",
    "by": "ЛОГИН",
    "category": "КАТЕГОРИЯ",
    "class_id": "КЛАСС",
    "date_from": "ДАТА",
    "days": "ДНЕЙ",
    "db": "ФАЙЛ",
    "device": "УСТРОЙСТВО",
    "district": "РАЙОН",
    "folder": "ПАПКА",
    "grade": "ПАРАЛЛЕЛЬ",
    "host": "АДРЕС",
    "key": "КЛЮЧ",
    "log_level": "УРОВЕНЬ",
    "name": "НАЗВАНИЕ",
    "number": "НОМЕР",
    "on": "ДАТА",
    "out": "ПАПКА",
    "package": "ПАКЕТ",
    "pdf": "ФАЙЛ",
    "person": "КТО",
    "port": "ПОРТ",
    "public_key": "КЛЮЧ",
    "reply": "ФАЙЛ",
    "scale": "ШКАЛА",
    "school": "ШКОЛА",
    "school_id": "КОД",
    "source": "ПАПКА",
    "subject": "ПРЕДМЕТ",
    "teacher": "СОТРУДНИК",
    "to": "ДАТА",
    "trust": "КЛЮЧ",
    "wheel": "ФАЙЛ",
    "workers": "ЧИСЛО",
    "year": "ГОД",
    "years": "ЛЕТ",
}

TYPE_NAMES = {"int": "целое число", "float": "число"}

# argparse's English error sentences (Python 3.11–3.13) and their Russian.
ERRORS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r)
    for p, r in [
        (r"^the following arguments are required: (.*)$", r"не хватает обязательных: \1"),
        (r"^unrecognized arguments: (.*)$", r"непонятные аргументы: \1"),
        (r"^argument (.*?): (.*)$", r"аргумент \1: \2"),
        (r"^invalid choice: (.*) \(choose from (.*)\)$", r"неизвестный выбор \1 (можно: \2)"),
        (r"^expected one argument$", "нужно одно значение"),
        (r"^expected at most one argument$", "нужно не больше одного значения"),
        (r"^expected at least one argument$", "нужно хотя бы одно значение"),
        (r"^expected (\d+) arguments?$", r"нужно значений: \1"),
        (r"^invalid (\w+) value: (.*)$", r"не подходит как «\1»: \2"),
        (r"^not allowed with argument (.*)$", r"нельзя вместе с \1"),
        (r"^ignored explicit argument (.*)$", r"лишнее значение \1"),
        (r"^ambiguous option: (.*) could match (.*)$", r"неоднозначный параметр \1: это \2?"),
        (r"^one of the arguments (.*) is required$", r"нужен один из: \1"),
    ]
]


def translate(message: str) -> str:
    """argparse's message in Russian; nested parts (`argument X: invalid …`) too."""
    for pattern, russian in ERRORS:
        match = pattern.match(message)
        if match:
            text = match.expand(russian)
            if pattern.pattern.startswith("^argument"):
                return f"аргумент {match.group(1)}: {translate(match.group(2))}"
            if pattern.pattern.startswith("^invalid (\\w+)"):
                kind = TYPE_NAMES.get(match.group(1), match.group(1))
                return f"не подходит как {kind}: {match.group(2)}"
            return text
    return message


class RussianHelpFormatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[Any],
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, "Использование: " if prefix is None else prefix)

    def _get_default_metavar_for_optional(self, action: argparse.Action) -> str:
        return METAVARS.get(action.dest, "ЗНАЧЕНИЕ")

    def _get_default_metavar_for_positional(self, action: argparse.Action) -> str:
        return METAVARS.get(action.dest, "ЗНАЧЕНИЕ")


class RussianArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose own words are Russian; subparsers inherit the class."""

    def __init__(self, *args: Any, add_help: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", RussianHelpFormatter)
        kwargs["add_help"] = False  # its own -h, with Russian help
        super().__init__(*args, **kwargs)
        self._positionals.title = "аргументы"
        self._optionals.title = "параметры"
        if add_help:
            self.add_argument("-h", "--help", action="help", help="показать эту справку и выйти")

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        """As argparse's; a positional argument is named in Russian in errors too («не хватает
        обязательных: ЖУРНАЛ»), not by its Python name."""
        action = super().add_argument(*args, **kwargs)
        if not action.option_strings and action.metavar is None and action.choices is None:
            action.metavar = METAVARS.get(action.dest)
        return action

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: ошибка: {translate(message)}\n")
