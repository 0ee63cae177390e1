"""The laptop's wheel set is complete: every dependency of the client has a wheel that the
laptop's Python can install (win_amd64 and manylinux, Python 3.11-3.13), so nothing needs a
compiler there. The list of dependencies comes from pyproject.toml, so a new one (SQLCipher
for the store, say) is checked the day it is added."""

from __future__ import annotations

import ast
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from server.install.wheels import (
    LINUX,
    PYTHON_VERSIONS,
    WINDOWS,
    client_requirements,
    missing_wheels,
)
from tests.bundle.kit import ROOT, cached_wheels


def _closure(requirements: list[str]) -> set[str]:
    """Distributions the client's requirements bring in, as installed here (this machine's
    markers: a superset check is not needed for imports, which run here)."""
    todo = [Requirement(r) for r in requirements]
    seen: set[str] = set()
    while todo:
        requirement = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        todo += [Requirement(r) for r in metadata.requires(requirement.name) or []]
    return seen


def test_every_import_of_the_laptop_code_is_shipped_in_the_bundle():
    """client_tui/ and shared/ may import only the standard library, themselves and what
    [tool.zhurnal] client-dependencies brings in; else the bundle would lack it."""
    shipped = _closure(client_requirements(ROOT / "pyproject.toml"))
    owners = metadata.packages_distributions()
    local = {"client_tui", "shared"}
    unshipped: list[str] = []
    for path in sorted([*(ROOT / "client_tui").rglob("*.py"), *(ROOT / "shared").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in local or top in sys.stdlib_module_names:
                    continue
                dists = {canonicalize_name(d) for d in owners.get(top, [top])}
                if not dists & shipped:
                    unshipped.append(f"{path.relative_to(ROOT)}: {module} ({', '.join(dists)})")
    assert unshipped == [], "not in [tool.zhurnal] client-dependencies:\n" + "\n".join(unshipped)


def _fake_wheel(folder: Path, filename: str, requires: list[str]) -> None:
    name, version = filename.split("-")[:2]
    with zipfile.ZipFile(folder / filename, "w") as wheel:
        meta = "".join(f"Requires-Dist: {r}\n" for r in requires)
        wheel.writestr(
            f"{name}-{version}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{meta}",
        )


def test_the_check_names_a_package_that_would_need_a_compiler(tmp_path):
    _fake_wheel(tmp_path, "app-1.0-py3-none-any.whl", ["fast>=1", "winonly; sys_platform=='win32'"])
    _fake_wheel(tmp_path, "fast-1.2-cp311-cp311-manylinux_2_17_x86_64.whl", [])
    _fake_wheel(tmp_path, "winonly-2.0-py3-none-any.whl", [])
    assert missing_wheels(tmp_path, ["app"], LINUX, "3.11") == []
    assert missing_wheels(tmp_path, ["app"], LINUX, "3.12") == ["fast>=1 (нужен для: app)"]
    assert missing_wheels(tmp_path, ["app"], WINDOWS, "3.11") == ["fast>=1 (нужен для: app)"]
    (tmp_path / "winonly-2.0-py3-none-any.whl").unlink()
    assert missing_wheels(tmp_path, ["app"], LINUX, "3.11") == []  # not needed on Linux
    assert 'winonly; sys_platform == "win32" (нужен для: app)' in missing_wheels(
        tmp_path, ["app"], WINDOWS, "3.11"
    )
    _fake_wheel(tmp_path, "fast-1.2-cp311-abi3-win_amd64.whl", [])
    assert missing_wheels(tmp_path, ["fast"], WINDOWS, "3.13") == []  # abi3 serves later ones
    assert missing_wheels(tmp_path, ["fast>=2"], WINDOWS, "3.11") == ["fast>=2 (нужен для: проект)"]


@pytest.mark.slow
@pytest.mark.parametrize("target", [WINDOWS, LINUX], ids=lambda t: t.name)
def test_the_laptop_wheel_set_is_complete_for_every_supported_python(request, target):
    """Resolved with pip's platform options once (then kept in pytest's cache)."""
    folder = cached_wheels(request.config, target)
    requirements = client_requirements(ROOT / "pyproject.toml")
    for python in PYTHON_VERSIONS:
        missing = missing_wheels(folder, requirements, target, python)
        assert missing == [], f"{target.name}, Python {python}: no wheel for {missing}"
    compiled = [w.name for w in folder.glob("*.whl") if not w.name.endswith("-none-any.whl")]
    assert compiled  # pycrdt and msgspec are compiled: the set really is per platform
    assert all(target.pip_platforms[0].split("_")[0] in n or "manylinux" in n for n in compiled)
