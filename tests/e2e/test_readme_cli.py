"""The README's «A teacher's day, from the command line» block, run as written.

A real server process on the demo school (`journal-server load-demo`, as `scripts/demo.sh`
does), and the block's lines given to bash one after another from the checkout, as a reader
would paste them. The one change is the server's address: the README's
http://127.0.0.1:8000 becomes the free port the test's server listens on. The dates are the
README's own (20.11.2026, a day of the demo school's autumn term); ZHURNAL_PASSWORD answers
the login's password question, as the README says.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.badlink.live import ROOT, LiveServer, free_port

pytestmark = pytest.mark.slow  # the demo school and a real server process

README = ROOT / "README.md"
README_ADDRESS = "http://127.0.0.1:8000"
MARK = "@@exit="


def readme_block(heading: str) -> list[str]:
    """The lines of the first ```bash block after `heading` (continuations joined)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, heading
    return [line for line in block.group(1).replace("\\\n", "").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "zhurnal.sqlite"
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [bin_dir / "journal-server", "--db", db, "load-demo"],
        check=True,
        capture_output=True,
        timeout=600,
    )
    server = LiveServer(db, free_port(), folder / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def run_lines(lines: list[str], env: dict[str, str]) -> list[tuple[str, int, str, str]]:
    """Each line in one bash (so `source` carries over); (line, exit code, stdout, stderr)."""
    script = "".join(f"{line}\necho '{MARK}'$?; echo '{MARK}' >&2\n" for line in lines)
    done = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    errs = done.stderr.split(MARK + "\n")
    parsed = []
    rest = done.stdout
    for number, line in enumerate(lines):
        out, _, rest = rest.partition(MARK)
        code, _, rest = rest.partition("\n")
        parsed.append((line, int(code), out, errs[number]))
    return parsed


def test_the_readme_cli_block_runs_as_written(demo_server, tmp_path):
    lines = readme_block("## A teacher's day, from the command line")
    assert any(README_ADDRESS in line for line in lines)
    lines = [line.replace(README_ADDRESS, demo_server.url) for line in lines]
    env = {
        **os.environ,
        "ZHURNAL_HOME": str(tmp_path / "laptop"),
        "ZHURNAL_PASSWORD": "demo-teacher",
        "LANG": "C.UTF-8",
    }
    results = run_lines(lines, env)
    assert len(results) == len(lines)
    for line, code, out, err in results:
        assert (code, "Traceback" in err) == (0, False), (line, out, err)
    said = {line.split()[1]: out for line, _, out, _ in results if line.startswith("journal ")}
    assert said["login"].startswith("Вход выполнен.")
    assert "Русский язык" in said["journals"]
    saved = [out for line, _, out, _ in results if out.startswith("Сохранено")]
    assert len(saved) == 4  # the lesson, everyone present, one absence, one mark
    assert "Имя существительное" in said["show"] and "ДЗ: упр. 5" in said["show"]
    assert "Синхронизация завершена" in said["sync"]
    assert "Ждут отправки: 0" in said["status"]
    assert said["rejected"] == "Отклонённых записей нет.\n"
