"""The laptops' offline bundle: its size per system and the time to install from it, beside a
plain `pip install` from the registry in the same run.

    .venv/bin/python -m scripts.bench.bundle_bench [--out DIR]

Rows: the bundle per system (archive size, wheel count); installing the Linux bundle with its
own install.sh (no network); and two baselines from the registry into a fresh venv with
--no-cache-dir: the project wheel with all its dependencies (what a laptop got before:
install.sh of the repository) and only the client's. Install times are ratios to the first
baseline. The machine is shared (load average printed): read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from server.install.builder import build_bundle
from server.install.wheels import client_requirements

ROOT = Path(__file__).resolve().parents[2]


def _timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.monotonic()
    subprocess.run(command, check=True, env=env, capture_output=True)
    return time.monotonic() - started


def _venv_install(tmp: Path, name: str, args: list[str]) -> float:
    """A fresh venv and pip install into it, timed together as install.sh is."""
    venv = tmp / name
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-cache-dir"]
    return _timed([sys.executable, "-m", "venv", str(venv)]) + _timed(pip + args)


def run(out: Path) -> list[tuple[str, str, str, str]]:
    started = time.monotonic()
    manifest = build_bundle(out)
    build_seconds = time.monotonic() - started
    wheel = next((out / ".wheels" / "project").glob("zhurnal-*.whl"))
    rows = []
    for item in manifest.files:
        folder = out / f"zhurnal-{manifest.version}-{item.target}"
        count = len(list((folder / "wheels").glob("*.whl"))) if folder.exists() else 0
        rows.append((f"bundle {item.target}", f"{item.size / 1e6:.1f} MB", str(count or ""), ""))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        full = _venv_install(tmp, "registry-full", [str(wheel)])
        client = _venv_install(
            tmp, "registry-client", [*client_requirements(ROOT / "pyproject.toml")]
        )
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(tmp / "home"),
            "ZHURNAL_PYTHON": getattr(sys, "_base_executable", sys.executable),
        }
        linux = out / f"zhurnal-{manifest.version}-linux-x86_64"
        bundle = _timed(["sh", str(linux / "install.sh")], env)
        size_full = sum(f.stat().st_size for f in (tmp / "registry-full").rglob("*") if f.is_file())
        size_bundle = sum(
            f.stat().st_size
            for f in (tmp / "home" / ".local" / "share" / "zhurnal-app").rglob("*")
            if f.is_file()
        )
    installed_full = f"{size_full / 1e6:.0f} MB installed"
    installed_bundle = f"{size_bundle / 1e6:.0f} MB installed"
    rows += [
        ("registry: venv + project with all deps", f"{full:.1f} s", "1.00", installed_full),
        ("registry: venv + client deps only", f"{client:.1f} s", f"{client / full:.2f}", ""),
        ("install.sh, Linux bundle", f"{bundle:.1f} s", f"{bundle / full:.2f}", installed_bundle),
        ("building the bundle (all systems, .deb)", f"{build_seconds:.0f} s", "", ""),
    ]  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="bundle folder (default: a temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        rows = run(args.out or Path(tmp) / "bundle")
    print("| what | size / time | ratio to registry install | note |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    load = Path("/proc/loadavg").read_text().split()[:3] if os.path.exists("/proc/loadavg") else []
    print(f"\nload average {' '.join(load)} (shared machine: times are noisy, ratios hold)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
