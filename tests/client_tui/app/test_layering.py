"""The screens call the client service layer only: no SQL, no HTTP, no store in client_tui/app."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[3] / "client_tui" / "app"
FORBIDDEN_MODULES = {"sqlite3", "sqlite_utils", "httpx", "server", "pycrdt"}
FORBIDDEN_ATTRIBUTES = {"store", "conn", "execute", "api", "transport", "_docs"}


def violations(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        found += [f"import {n}" for n in names if n.split(".")[0] in FORBIDDEN_MODULES]
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            found.append(f".{node.attr} (line {node.lineno})")
    return found


def test_screens_and_widgets_reach_data_only_through_services():
    files = sorted(APP.rglob("*.py"))
    assert len(files) > 8
    problems = {str(f.relative_to(APP)): violations(f.read_text()) for f in files}
    assert {name: found for name, found in problems.items() if found} == {}


def test_the_check_sees_a_screen_that_talks_to_the_store():
    assert violations("import sqlite3\nrows = self.app.session.store.conn.execute('x')") == [
        "import sqlite3",
        ".execute (line 2)",
        ".conn (line 2)",
        ".store (line 2)",
    ]
