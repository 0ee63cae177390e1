"""The Linux bundle on a laptop with no network: it installs from its own folder alone, the
installed `journal` logs in to a real server process and syncs, and an update installed the
same way keeps every entry and pending item; a failed update leaves the old app and store.

The installer runs with every pip route pointed at a trap on loopback (index, find-links,
proxies): one connection to it, and the test fails. Wheels are downloaded once and kept in
pytest's cache (tests/bundle/kit.py).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.install.builder import build_bundle, build_project_wheel
from server.install.wheels import LINUX
from tests.bundle.kit import ROOT, cached_wheels
from tests.factories import MATH_5, PASSWORD

pytestmark = pytest.mark.slow
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
CURRENT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
NEXT = f"{CURRENT}.1"  # a later release than the current one, whatever it is


class NetworkTrap:
    """A loopback port that counts every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def trap() -> Iterator[NetworkTrap]:
    net = NetworkTrap()
    yield net
    net.close()


def laptop_env(home: Path, trap: NetworkTrap) -> dict[str, str]:
    """A teacher's shell: no project on the path, every pip route to the trap."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "ZHURNAL_PYTHON": BASE_PYTHON,
        "PIP_INDEX_URL": f"{trap.url}/simple",
        "PIP_EXTRA_INDEX_URL": f"{trap.url}/extra",
        "PIP_FIND_LINKS": f"{trap.url}/links",
        "HTTP_PROXY": trap.url,
        "HTTPS_PROXY": trap.url,
        "http_proxy": trap.url,
        "https_proxy": trap.url,
        "ZHURNAL_HOME": str(home / "data"),
    }


def build_linux_bundle(request: pytest.FixtureRequest, out: Path, wheel: Path | None) -> Path:
    manifest = build_bundle(
        out,
        project_wheel=wheel,
        targets=(LINUX,),
        pythons=(PYTHON,),
        deb=False,
        archives=False,
        wheel_cache=cached_wheels(request.config, LINUX).parent,
    )
    return out / f"zhurnal-{manifest.version}-{LINUX.name}"


@pytest.fixture(scope="module")
def bundle(request: pytest.FixtureRequest, tmp_path_factory) -> Path:
    return build_linux_bundle(request, tmp_path_factory.mktemp("bundle"), None)


def install(bundle: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    done = subprocess.run(
        ["sh", str(bundle / "install.sh")], env=env, capture_output=True, text=True, timeout=600
    )
    done.seconds = time.monotonic() - started  # type: ignore[attr-defined]
    return done


def journal(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The installed `journal`, its HTTP straight to the test server (not to the trap)."""
    command = [str(Path(env["HOME"]) / ".local" / "bin" / "journal"), *args]
    env = {k: v for k, v in env.items() if not k.lower().endswith("_proxy")}
    # run from the repository: the installed app must not import the checkout beside it
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_linux_bundle_installs_offline_and_the_installed_journal_logs_in_and_syncs(
    bundle, trap, tmp_path, live_server
):
    env = laptop_env(tmp_path / "home", trap)
    done = install(bundle, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Шаг 3 из 3" in done.stdout
    assert trap.connections == 0, "the installer tried the network"
    app = tmp_path / "home" / ".local" / "share" / "zhurnal-app" / "venv"
    site = next(app.glob("lib/python3*/site-packages"))
    assert (site / "client_tui" / "app" / "app.tcss").is_file()  # the TUI's CSS came along
    assert not (site / "litestar").exists()  # the server's dependencies stayed home
    desktop = tmp_path / "home" / ".local" / "share" / "applications" / "zhurnal.desktop"
    assert "Exec=" in desktop.read_text()

    env["ZHURNAL_PASSWORD"] = PASSWORD
    login = journal(env, "login", "--server", live_server.url, "--login", "math")
    assert login.returncode == 0, login.stderr
    lesson = journal(env, "lesson", MATH_5, "--date", "05.10.2026", "--topic", "Дроби")
    assert lesson.returncode == 0, lesson.stderr
    mark = journal(env, "mark", MATH_5, "--lesson", "2026-10-05", "--student", "1", "--value", "5")
    assert mark.returncode == 0, mark.stderr
    synced = journal(env, "sync")
    assert synced.returncode == 0, synced.stderr
    assert "Ждут отправки: 0" in journal(env, "status").stdout
    with live_server.db_conn() as conn:
        topics = [
            r[0] for r in conn.execute("SELECT topic FROM lessons WHERE journal_id = ?", (MATH_5,))
        ]
    assert "Дроби" in topics
    # the app itself opens on the installed files (CSS and all), headless
    tui = subprocess.run(
        [str(app / "bin" / "python"), "-P", "-c", TUI_SMOKE],
        cwd=ROOT,
        env={k: v for k, v in env.items() if not k.lower().endswith("_proxy")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tui.returncode == 0, tui.stderr
    first, screen, rules, code = tui.stdout.split()
    assert code.startswith(str(site))  # the installed code, not the checkout
    assert first == "UnlockScreen"  # the store is encrypted: its password opens it (apsw-sqlite3mc)
    assert screen == "JournalsScreen"  # logged in: the list of journals, from the local store
    assert int(rules) > 0  # with the app's own CSS


TUI_SMOKE = """
import asyncio
import os
import client_tui
from client_tui.app import JournalApp

async def main():
    app = JournalApp(background_sync=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        first = type(app.screen).__name__
        await pilot.press(*os.environ["ZHURNAL_PASSWORD"], "enter")
        for _ in range(1200):
            if type(app.screen).__name__ == "JournalsScreen":
                break
            await pilot.pause(0.05)
        print(first, type(app.screen).__name__, len(app.stylesheet.rules), client_tui.__file__)

asyncio.run(main())
"""


def _version_bumped_wheel(dest: Path, version: str) -> Path:
    """The project's wheel as the next release would be: same code, a later version."""
    source = dest / "source"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    for name in files:
        if (ROOT / name).is_file() and not name.startswith("tests/"):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, source / name)
    pyproject = source / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(f'version = "{CURRENT}"', f'version = "{version}"')
    )
    return build_project_wheel(source, dest / "wheel")


def pending_and_entries(env: dict[str, str]) -> tuple[str, str]:
    return journal(env, "pending").stdout, journal(env, "show", MATH_5, "--month", "2026-10").stdout


def test_an_update_keeps_every_entry_and_pending_item_and_a_failed_one_changes_nothing(
    request, bundle, trap, tmp_path, live_server
):
    env = laptop_env(tmp_path / "home", trap)
    env["ZHURNAL_PASSWORD"] = PASSWORD
    assert install(bundle, env).returncode == 0
    assert journal(env, "login", "--server", live_server.url, "--login", "math").returncode == 0
    for day in ("05", "06", "07"):
        assert (
            journal(
                env, "lesson", MATH_5, "--date", f"{day}.10.2026", "--topic", f"Тема {day}"
            ).returncode
            == 0
        )
        assert (
            journal(
                env, "mark", MATH_5, "--lesson", f"2026-10-{day}", "--student", "2", "--value", "4"
            ).returncode
            == 0
        )
    assert journal(env, "sync").returncode == 0  # some entries reached the server...
    live_server.stop()
    for day in ("08", "09"):  # ...and these wait on the laptop: the server is down
        assert (
            journal(
                env, "lesson", MATH_5, "--date", f"{day}.10.2026", "--topic", f"Тема {day}"
            ).returncode
            == 0
        )
    before = pending_and_entries(env)
    assert "Тема 08" in before[0] and "Тема 09" in before[0]
    assert "Тема 05" not in before[0]

    # a broken update: one wheel of the new bundle is damaged on the stick
    broken = tmp_path / "broken"
    shutil.copytree(bundle, broken)
    textual = next((broken / "wheels").glob("textual-*.whl"))
    textual.write_bytes(textual.read_bytes()[:1000])
    failed = install(broken, env)
    assert failed.returncode != 0
    assert "прежняя версия программы и все записи журнала не тронуты" in failed.stderr
    assert journal(env, "--version").stdout.strip() == f"journal {CURRENT}"
    assert pending_and_entries(env) == before

    # the real update, a later release, installed the same way over the same laptop
    newer = build_linux_bundle(request, tmp_path / "newer", _version_bumped_wheel(tmp_path, NEXT))
    upgraded = install(newer, env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert trap.connections == 0
    assert journal(env, "--version").stdout.strip() == f"journal {NEXT}"
    assert pending_and_entries(env) == before
    live_server.start()
    assert journal(env, "sync").returncode == 0
    assert "Ждут отправки: 0" in journal(env, "status").stdout
    with live_server.db_conn() as conn:
        topics = {
            r[0] for r in conn.execute("SELECT topic FROM lessons WHERE journal_id = ?", (MATH_5,))
        }
    assert {f"Тема {d}" for d in ("05", "06", "07", "08", "09")} <= topics


def test_the_deb_carries_the_app_and_its_postinst_installs_it_offline(request, trap, tmp_path):
    out = tmp_path / "out"
    build_bundle(
        out,
        targets=(LINUX,),
        pythons=(PYTHON,),
        archives=False,
        wheel_cache=cached_wheels(request.config, LINUX).parent,
    )
    deb = next(out.glob("zhurnal-journal_*_amd64.deb"))
    info = subprocess.run(["dpkg-deb", "--info", str(deb)], capture_output=True, text=True).stdout
    assert "Depends: python3 (>= 3.11), python3-venv" in info
    contents = subprocess.run(
        ["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True
    ).stdout
    assert "./usr/bin/journal" in contents
    assert "./usr/share/applications/zhurnal.desktop" in contents
    assert "./opt/zhurnal/wheels/zhurnal-" in contents
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "--raw-extract", str(deb), str(root)], check=True)
    env = laptop_env(tmp_path / "home", trap) | {"ZHURNAL_OPT": str(root / "opt" / "zhurnal")}
    env["PATH"] = f"{Path(BASE_PYTHON).parent}:{env['PATH']}"
    done = subprocess.run(
        ["sh", str(root / "DEBIAN" / "postinst"), "configure"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert trap.connections == 0
    python = root / "opt" / "zhurnal" / "venv" / "bin" / "python"
    version = subprocess.run(
        [str(python), "-P", "-m", "client_tui.cli", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert version.stdout.startswith("journal ")
