"""Layering, read from the source: the product (server/, client_tui/, shared/) never imports
`scripts`, the developers' folder of demo data, benchmarks and link tools. An installed
server must not need it.

Every import statement counts, those inside functions too (an import run only by one command
is still a dependency). Places that do so today are listed in ALLOWED; the list only shrinks:
a place that no longer imports `scripts` must come off it, and a new one fails the test.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("server", "client_tui", "shared")

# (file, module imported): the demo school is still built by scripts/seed_demo.py
# (issue 19: it moves into the server package).
ALLOWED = {
    ("server/cli.py", "scripts.seed_demo"),
}


def imports_of(source: str) -> Iterator[str]:
    """The absolute module names `source` imports, at any depth."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def imports_of_scripts() -> set[tuple[str, str]]:
    found = set()
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            for module in imports_of(path.read_text(encoding="utf-8")):
                if module == "scripts" or module.startswith("scripts."):
                    found.add((path.relative_to(ROOT).as_posix(), module))
    return found


def test_the_product_imports_nothing_from_scripts() -> None:
    found = imports_of_scripts()
    assert found - ALLOWED == set(), "the product must not import scripts/"
    assert ALLOWED - found == set(), "no longer imported: take it off ALLOWED"


def test_imports_are_found_at_any_depth() -> None:
    source = (
        "import os\n"
        "from scripts import bench\n"
        "def f():\n"
        "    import scripts.badlink.live\n"
        "    from . import sibling\n"
        "    from scripts.seed_demo import build_demo_school\n"
    )
    assert sorted(imports_of(source)) == [
        "os",
        "scripts",
        "scripts.badlink.live",
        "scripts.seed_demo",
    ]
