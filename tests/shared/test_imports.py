"""Layering: `shared/` imports neither side, and the client's services import no Textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil, sys
package = importlib.import_module({package!r})
for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    importlib.import_module(module.name)
loaded = sorted({{name.split(".")[0] for name in sys.modules}} & set({forbidden!r}))
print(",".join(loaded))
"""


def imported_roots(package: str, forbidden: set[str]) -> list[str]:
    """Import every module of `package` in a fresh interpreter; the forbidden roots it loaded."""
    code = PROBE.format(package=package, forbidden=sorted(forbidden))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return [name for name in result.stdout.strip().split(",") if name]


def test_shared_imports_neither_server_nor_client() -> None:
    assert imported_roots("shared", {"server", "client_tui", "textual"}) == []


def test_client_services_import_no_textual() -> None:
    assert imported_roots("client_tui.services", {"textual"}) == []


def test_probe_does_see_an_imported_package() -> None:
    assert imported_roots("client_tui.services", {"client_tui", "shared"}) == [
        "client_tui",
        "shared",
    ]
