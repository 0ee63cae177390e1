"""The preview of a list as text, for the command line (`journal-server import … --dry-run`)."""

from __future__ import annotations

import argparse
import sqlite3
import sys

from server.lists import ListKind, ListRefused, Preview, apply, preview
from server.lists.plan import parse_date

_SECTIONS = (
    ("additions", "Добавится"),
    ("changes", "Изменится"),
    ("leavers", "Выбывает / снимается"),
)


def describe(result: Preview) -> list[str]:
    """The preview in Russian, a line per person or change."""
    out = [f"Строк в файле: {result.lines}; действует с {result.on:%d.%m.%Y}."]
    for attr, title in _SECTIONS:
        items = getattr(result, attr)
        out.append(f"{title}: {len(items)}")
        out += [f"  {item}" for item in items]
    out += [f"Примечание: {note}" for note in result.notes]
    if result.errors:
        out.append(f"Ошибки: {len(result.errors)}")
        out += [f"  {error}" for error in result.errors]
    elif result.unchanged:
        out.append("Изменений нет.")
    return out


def run_import(conn: sqlite3.Connection, args: argparse.Namespace) -> int:
    on = None
    if args.date:
        on = parse_date(args.date)
        if on is None:
            print("Дата --date не в формате ДД.ММ.ГГГГ.", file=sys.stderr)
            return 2
    kind, data = ListKind(args.what), args.file.read_bytes()
    if args.dry_run:
        result = preview(conn, kind, data, school_id=args.school, on=on)
        print("\n".join(describe(result)))
        print("Ничего не записано (--dry-run).")
        return 2 if result.errors else 0
    try:
        result = apply(conn, kind, data, school_id=args.school, on=on)
    except ListRefused as refused:
        print("\n".join(describe(refused.preview)))
        print("Импорт отменён, ничего не изменено.", file=sys.stderr)
        return 2
    print("\n".join(describe(result)))
    print("Записано.")
    return 0
