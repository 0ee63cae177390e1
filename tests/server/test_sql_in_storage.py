"""SQL runs only in server/storage/ (issue 14: one place for the dialect, so a second engine
plugs in there). The modules that still run SQL elsewhere are listed with how many calls each
makes: the list may only shrink. Moving a module's SQL into storage means lowering or removing
its line; a new module outside storage that runs SQL fails here."""

from __future__ import annotations

import ast
from pathlib import Path

SERVER = Path(__file__).resolve().parents[2] / "server"
SQL_CALLS = {"execute", "executemany", "executescript"}

# module -> `.execute*(` calls it makes today; lower these as SQL moves to server/storage/
STILL_RUNS_SQL = {
    "archive/closing.py": 2,
    "archive/jobs.py": 6,
    "archive/june.py": 6,
    "archive/pdf_cache.py": 2,
    "archive/personal_file.py": 10,
    "archive/portfolio_files.py": 1,
    "archive/readback.py": 1,
    "archive/retention.py": 3,
    "archive/schedule.py": 10,
    "cli.py": 3,
    "directory/scales.py": 1,
    "importer.py": 4,
    "lists/incoming.py": 1,
    "lists/next_year.py": 1,
    "reports/district.py": 7,
    "reports/district_exchange.py": 3,
    "reports/summary_sheet.py": 1,
    "sync/withdrawals.py": 1,
    "web/archive.py": 3,
}


def sql_calls(source: str) -> int:
    return sum(
        1
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in SQL_CALLS
    )


def found() -> dict[str, int]:
    counts = {}
    for path in sorted(SERVER.rglob("*.py")):
        name = path.relative_to(SERVER).as_posix()
        if name.startswith("storage/"):
            continue
        if calls := sql_calls(path.read_text(encoding="utf-8")):
            counts[name] = calls
    return counts


def test_no_module_outside_storage_runs_more_sql_than_it_did():
    counts = found()
    new = {name: n for name, n in counts.items() if name not in STILL_RUNS_SQL}
    assert new == {}, "SQL belongs in server/storage/: add a function there and call it"
    grown = {
        name: (STILL_RUNS_SQL[name], n)
        for name, n in counts.items()
        if n > STILL_RUNS_SQL.get(name, n)
    }
    assert grown == {}, "(allowed, found): move the new SQL into server/storage/"
    gone = sorted(set(STILL_RUNS_SQL) - set(counts))
    assert gone == [], "no SQL left in these: remove them from STILL_RUNS_SQL"


def test_the_check_sees_sql_wherever_it_is_called():
    source = (
        "conn.execute('x')\nself.db.executemany('y', [])\nexecute('z')\n"
        "c.cursor().executescript('w')"
    )
    assert sql_calls(source) == 3  # a bare function named execute is not a connection's
