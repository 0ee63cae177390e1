"""Wheel sets for other machines: which wheels a laptop's Python can install, and whether a
folder of wheels holds every dependency of the client for it (no compiler, no network).

Markers (`; sys_platform == "win32"`) are evaluated for the target, not for this machine, so a
Windows-only dependency is found missing on Linux too.
"""

from __future__ import annotations

import email.parser
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

PYTHON_VERSIONS = ("3.11", "3.12", "3.13")  # the laptop's Python: what the installers accept


@dataclass(frozen=True)
class Target:
    """A laptop's system: pip's platform tags and the values its markers see."""

    name: str  # linux-x86_64, windows-amd64
    title_ru: str
    pip_platforms: tuple[str, ...]
    markers: dict[str, str]

    def tags(self, python: str) -> set[Tag]:
        version = tuple(int(p) for p in python.split("."))
        return set(cpython_tags(version, platforms=self.pip_platforms)) | set(
            compatible_tags(version, "cp" + python.replace(".", ""), self.pip_platforms)
        )

    def environment(self, python: str) -> dict[str, str]:
        return self.markers | {
            "python_version": python,
            "python_full_version": python + ".0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "extra": "",
        }


LINUX = Target(
    name="linux-x86_64",
    title_ru="Linux (Astra Linux, Альт, РЕД ОС, Debian, Ubuntu), 64 бита",
    pip_platforms=(
        *(f"manylinux_2_{minor}_x86_64" for minor in range(28, 16, -1)),
        "manylinux2014_x86_64",
        "manylinux2010_x86_64",
        "manylinux1_x86_64",
    ),
    markers={
        "os_name": "posix",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
    },
)
WINDOWS = Target(
    name="windows-amd64",
    title_ru="Windows 10 или 11, 64 бита",
    pip_platforms=("win_amd64",),
    markers={
        "os_name": "nt",
        "sys_platform": "win32",
        "platform_system": "Windows",
        "platform_machine": "AMD64",
    },
)
TARGETS = {t.name: t for t in (LINUX, WINDOWS)}


class BundleError(Exception):
    def __init__(self, message_ru: str):
        super().__init__(message_ru)
        self.message_ru = message_ru


def client_requirements(pyproject: Path) -> list[str]:
    """The project's dependency specs for the distributions `[tool.zhurnal]
    client-dependencies` names: what the laptop needs, versions as the project pins them."""
    data = tomllib.loads(pyproject.read_text("utf-8"))
    names = data["tool"]["zhurnal"]["client-dependencies"]
    specs = {canonicalize_name(Requirement(r).name): r for r in data["project"]["dependencies"]}
    missing = [n for n in names if canonicalize_name(n) not in specs]
    if missing:
        raise BundleError(f"В [project] dependencies нет: {', '.join(missing)}")
    return [specs[canonicalize_name(n)] for n in names]


@dataclass(frozen=True)
class Wheel:
    path: Path
    name: str
    version: str
    tags: frozenset[Tag]

    def requires(self) -> list[Requirement]:
        with zipfile.ZipFile(self.path) as archive:
            meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            message = email.parser.BytesParser().parsebytes(archive.read(meta))
        return [Requirement(r) for r in message.get_all("Requires-Dist") or []]


def wheels_in(folder: Path) -> list[Wheel]:
    found = []
    for path in sorted(folder.glob("*.whl")):
        name, version, _, tags = parse_wheel_filename(path.name)
        found.append(Wheel(path, name, str(version), frozenset(tags)))
    return found


def missing_wheels(
    folder: Path, requirements: Iterable[str], target: Target, python: str
) -> list[str]:
    """Each requirement of the client's dependency tree (markers evaluated for the target)
    with no wheel in `folder` that the target's Python can install, as `name (needed by …)`.
    Empty: pip can install the client there with --no-index from this folder alone."""
    tags = target.tags(python)
    env = target.environment(python)
    by_name: dict[str, list[Wheel]] = {}
    for wheel in wheels_in(folder):
        by_name.setdefault(wheel.name, []).append(wheel)
    todo = [(Requirement(r), "проект", ("",)) for r in requirements]
    seen: set[str] = set()
    missing: list[str] = []
    while todo:
        requirement, parent, parent_extras = todo.pop()
        if requirement.marker is not None and not any(
            requirement.marker.evaluate(env | {"extra": extra}) for extra in parent_extras
        ):
            continue
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        fits = [
            w
            for w in by_name.get(name, [])
            if w.tags & tags and requirement.specifier.contains(w.version, prereleases=True)
        ]
        if not fits:
            missing.append(f"{requirement} (нужен для: {parent})")
            continue
        best = max(fits, key=lambda w: Version(w.version))
        extras = ("", *sorted(requirement.extras))
        todo.extend((r, name, extras) for r in best.requires())
    return sorted(missing)
