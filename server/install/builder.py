"""`journal-server bundle-app OUT`: the teacher's app for laptops with no internet.

For each system (Linux x86_64, Windows amd64) a folder and an archive holding the project's
wheel, a wheel of every client dependency for each supported Python, and an installer that
creates the environment with `pip --no-index` from the bundle alone; for Debian-based systems
(Astra Linux) also a .deb made by dpkg-deb. Only the client's dependencies travel (pyproject's
[tool.zhurnal] client-dependencies); the project's wheel is installed with --no-deps.
Downloaded wheels are kept in OUT/.wheels, so building the next release fetches only what
changed.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from server.archive.verify import sha256_file
from server.install.wheels import (
    LINUX,
    PYTHON_VERSIONS,
    WINDOWS,
    BundleError,
    Target,
    client_requirements,
    missing_wheels,
)

INSTALLERS = Path(__file__).parent / "installers"
SOURCE_ROOT = Path(__file__).resolve().parents[2]
MANIFEST = "manifest.json"
DEB_PACKAGE = "zhurnal-journal"


@dataclass(frozen=True)
class BundleFile:
    """One file the server offers at /install."""

    target: str  # linux-x86_64, windows-amd64, deb
    file: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    version: str
    pythons: tuple[str, ...]
    requirements: tuple[str, ...]
    files: tuple[BundleFile, ...]

    def save(self, folder: Path) -> None:
        (folder / MANIFEST).write_text(
            json.dumps(asdict(self), ensure_ascii=False, indent=1), "utf-8"
        )

    @classmethod
    def load(cls, folder: Path) -> Manifest | None:
        try:
            data = json.loads((folder / MANIFEST).read_text("utf-8"))
            return cls(
                version=data["version"],
                pythons=tuple(data["pythons"]),
                requirements=tuple(data["requirements"]),
                files=tuple(BundleFile(**f) for f in data["files"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None


def _run(command: list[str], what_ru: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        raise BundleError(f"{what_ru}: ошибка pip\n{tail}")


def build_project_wheel(source: Path, dest: Path) -> Path:
    """The project's own wheel from its source tree (pyproject.toml at `source`)."""
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("zhurnal-*.whl"):
        old.unlink()
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(dest),
            str(source),
        ],
        "Сборка пакета программы",
    )
    return next(dest.glob("zhurnal-*.whl"))


def download_wheels(
    requirements: list[str], target: Target, pythons: tuple[str, ...], dest: Path
) -> None:
    """Wheels of every client dependency for `target`, one pass per Python version, then a
    pass per requirement that pip's resolver skipped (markers it judged by this machine).
    A folder that is already complete is left alone: no request at all."""
    dest.mkdir(parents=True, exist_ok=True)

    def pip_download(python: str, specs: list[str], *, deps: bool) -> None:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"]
        command += ["--implementation", "cp", "--python-version", python, "-d", str(dest)]
        command += [arg for p in target.pip_platforms for arg in ("--platform", p)]
        command += [] if deps else ["--no-deps"]
        _run(command + specs, f"Загрузка пакетов для {target.title_ru}, Python {python}")

    for python in pythons:
        if missing_wheels(dest, requirements, target, python):
            pip_download(python, requirements, deps=True)
        for _ in range(5):  # each pass may reveal the next level of the tree
            missing = missing_wheels(dest, requirements, target, python)
            if not missing:
                break
            for line in missing:
                with contextlib.suppress(BundleError):  # reported below, by name
                    pip_download(python, [line.split(" (", 1)[0]], deps=False)
        missing = missing_wheels(dest, requirements, target, python)
        if missing:
            raise BundleError(
                f"Для {target.title_ru} и Python {python} нет готовых пакетов (wheel): "
                + "; ".join(missing)
                + ". Их пришлось бы собирать компилятором на ноутбуке."
            )


def _copy_installers(folder: Path, names: list[str]) -> None:
    for name in names:
        shutil.copyfile(INSTALLERS / name, folder / name)
        if name.endswith(".sh"):
            (folder / name).chmod(0o755)


def _layout(folder: Path, project_wheel: Path, wheels: Path, requirements: list[str]) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "wheels").mkdir(parents=True)
    for wheel in [project_wheel, *wheels.glob("*.whl")]:
        shutil.copyfile(wheel, folder / "wheels" / wheel.name)
    (folder / "requirements.txt").write_text("\n".join(requirements) + "\n", "utf-8")
    (folder / "VERSION").write_text(project_wheel.name.split("-")[1] + "\n", "utf-8")


def _tar(folder: Path, archive: Path) -> None:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)


def _zip(folder: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.rglob("*")):
            out.write(path, path.relative_to(folder.parent).as_posix())


def build_deb(folder: Path, version: str, out: Path) -> Path | None:
    """A .deb of the Linux bundle, built by dpkg-deb (None where it is missing): the wheels
    in /opt/zhurnal, `journal` in /usr/bin, a menu entry; postinst makes the environment."""
    if shutil.which("dpkg-deb") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        opt = root / "opt" / "zhurnal"
        shutil.copytree(folder / "wheels", opt / "wheels")
        shutil.copyfile(folder / "requirements.txt", opt / "requirements.txt")
        (root / "usr" / "bin").mkdir(parents=True)
        launcher = root / "usr" / "bin" / "journal"
        launcher.write_text(
            '#!/bin/sh\nexec /opt/zhurnal/venv/bin/python -P -m client_tui.cli "$@"\n'
        )
        launcher.chmod(0o755)
        apps = root / "usr" / "share" / "applications"
        apps.mkdir(parents=True)
        shutil.copyfile(INSTALLERS / "zhurnal.desktop", apps / "zhurnal.desktop")
        debian = root / "DEBIAN"
        debian.mkdir()
        size_kb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) // 1024
        (debian / "control").write_text(
            f"Package: {DEB_PACKAGE}\nVersion: {version}\nArchitecture: amd64\n"
            "Maintainer: Zhurnal <noreply@localhost>\n"
            "Depends: python3 (>= 3.11), python3-venv\n"
            f"Installed-Size: {size_kb}\nSection: education\nPriority: optional\n"
            "Description: Журнал — электронный журнал учителя (работает без сети)\n"
            " The teacher's app of the Zhurnal class journal, installed offline from the\n"
            " wheels this package carries.\n",
            "utf-8",
        )
        for script in ("postinst", "prerm"):
            shutil.copyfile(INSTALLERS / f"deb-{script}.sh", debian / script)
            (debian / script).chmod(0o755)
        for path in root.rglob("*"):
            mode = path.stat().st_mode
            path.chmod((mode | stat.S_IRGRP | stat.S_IROTH) & ~(stat.S_IWGRP | stat.S_IWOTH))
            if path.is_dir():
                path.chmod(0o755)
        deb = out / f"{DEB_PACKAGE}_{version}_amd64.deb"
        done = subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(deb)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BundleError(f"dpkg-deb не собрал пакет: {done.stderr.strip()}")
    return deb


def build_bundle(
    out: Path,
    *,
    source: Path | None = None,
    project_wheel: Path | None = None,
    targets: tuple[Target, ...] = (LINUX, WINDOWS),
    pythons: tuple[str, ...] = PYTHON_VERSIONS,
    deb: bool = True,
    archives: bool = True,
    wheel_cache: Path | None = None,
) -> Manifest:
    """Build everything into `out` and write its manifest (what /install offers)."""
    source = source or SOURCE_ROOT
    pyproject = source / "pyproject.toml"
    if not pyproject.exists():
        raise BundleError(f"Нет {pyproject}: укажите папку с исходным кодом программы (--source).")
    out.mkdir(parents=True, exist_ok=True)
    requirements = client_requirements(pyproject)
    project_wheel = project_wheel or build_project_wheel(source, out / ".wheels" / "project")
    version = project_wheel.name.split("-")[1]
    cache = wheel_cache or out / ".wheels"
    files: list[BundleFile] = []
    for target in targets:
        wheels = cache / target.name
        download_wheels(requirements, target, pythons, wheels)
        folder = out / f"zhurnal-{version}-{target.name}"
        _layout(folder, project_wheel, wheels, requirements)
        if target is WINDOWS:
            _copy_installers(folder, ["install.ps1", "install.bat", "ПРОЧТИТЕ.txt"])
        else:
            _copy_installers(folder, ["install.sh", "zhurnal.desktop", "ПРОЧТИТЕ.txt"])
        made: list[tuple[str, Path]] = []
        if archives:
            archive = folder.with_name(folder.name + (".zip" if target is WINDOWS else ".tar.gz"))
            (_zip if target is WINDOWS else _tar)(folder, archive)
            made.append((target.name, archive))
        if target is LINUX and deb:
            package = build_deb(folder, version, out)
            if package is not None:
                made.append(("deb", package))
        files += [BundleFile(name, p.name, p.stat().st_size, sha256_file(p)) for name, p in made]
    manifest = Manifest(version, tuple(pythons), tuple(requirements), tuple(files))
    manifest.save(out)
    return manifest
