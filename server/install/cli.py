"""`journal-server bundle-app`: build the laptops' offline bundle the server offers at /install."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from server.config import ServerConfig
from server.install.builder import build_bundle
from server.install.wheels import PYTHON_VERSIONS, TARGETS


def cmd_bundle_app(args: argparse.Namespace) -> int:
    out = args.out or ServerConfig.from_env(database=args.db).app_bundle_folder
    started = time.monotonic()
    print(f"Сборка программы для ноутбуков в {out} (пакеты загружаются с PyPI один раз)…")
    manifest = build_bundle(
        out,
        source=args.source,
        project_wheel=args.wheel,
        targets=tuple(TARGETS[name] for name in args.system),
        pythons=tuple(args.python),
        deb=not args.no_deb,
    )
    for item in manifest.files:
        print(f"  {item.file:<48} {item.size / 1e6:7.1f} МБ")
    print(
        f"Готово за {time.monotonic() - started:.0f} с: версия {manifest.version}, Python "
        f"{', '.join(manifest.pythons)}. Сервер предлагает её на странице /install; "
        "на флешку скопируйте архив для нужной системы."
    )
    return 0


def add_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    p = command("bundle-app", "собрать программу учителя для установки без интернета")
    p.add_argument(
        "out",
        type=Path,
        nargs="?",
        help="куда (по умолчанию папка app-bundle рядом с базой: её раздаёт /install)",
    )
    p.add_argument(
        "--system",
        action="append",
        choices=list(TARGETS),
        help="для какой системы (можно несколько; по умолчанию все)",
    )
    p.add_argument(
        "--python",
        action="append",
        choices=list(PYTHON_VERSIONS),
        help="версии Python на ноутбуках (по умолчанию " + ", ".join(PYTHON_VERSIONS) + ")",
    )
    p.add_argument("--source", type=Path, help="папка с исходным кодом (pyproject.toml)")
    p.add_argument("--wheel", type=Path, help="готовый пакет программы (zhurnal-*.whl)")
    p.add_argument("--no-deb", action="store_true", help="не собирать пакет .deb")
    p.set_defaults(func=cmd_bundle_app, system=None, python=None)


def fill_defaults(args: argparse.Namespace) -> None:
    if getattr(args, "func", None) is cmd_bundle_app:
        args.system = args.system or list(TARGETS)
        args.python = args.python or list(PYTHON_VERSIONS)
