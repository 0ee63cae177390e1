"""Moved to shared/russian_argparse.py (the server's commands speak Russian too); kept so that
`from client_tui.russian_argparse import …` still works."""

from shared.russian_argparse import (
    ERRORS,
    METAVARS,
    TYPE_NAMES,
    RussianArgumentParser,
    RussianHelpFormatter,
    translate,
)

__all__ = [
    "ERRORS",
    "METAVARS",
    "TYPE_NAMES",
    "RussianArgumentParser",
    "RussianHelpFormatter",
    "translate",
]
