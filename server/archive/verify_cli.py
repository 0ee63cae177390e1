"""journal-archive: check archive packages offline, with no server and no database.

    journal-archive verify FOLDER --key school-archive.pub.pem

Exit status: 0 the archive is intact, 1 something is wrong (each finding is printed),
2 the command itself could not run (no such folder, unreadable key).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.archive import keys
from server.archive.verify import describe, verify_folder
from shared.russian_argparse import RussianArgumentParser


def build_parser() -> argparse.ArgumentParser:
    parser = RussianArgumentParser(
        prog="journal-archive",
        description="Проверка архива электронного журнала без сервера и без базы данных.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="команда")
    text = (
        "проверить пакеты в папке: состав BagIt, каждую контрольную сумму, подпись ключом "
        "школы и цепочку лет"
    )
    verify = sub.add_parser("verify", help=text, description=text)
    verify.add_argument("folder", type=Path, help="папка с пакетами (или один пакет)")
    verify.add_argument(
        "--key",
        type=Path,
        action="append",
        required=True,
        help="открытый ключ архива школы (PEM); можно указать несколько при смене ключа",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.folder.is_dir():
        print(f"Нет такой папки: {args.folder}", file=sys.stderr)
        return 2
    try:
        public_keys = [keys.load_public(path) for path in args.key]
    except keys.ArchiveKeyError as exc:
        print(f"Ошибка: {exc.message_ru}", file=sys.stderr)
        return 2
    report = verify_folder(args.folder, public_keys)
    for line in describe(report):
        print(line)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
