"""/install: the page from which a teacher takes the app over the school's LAN (no login).

It offers what `journal-server bundle-app` put in the server's app-bundle folder, the archive
for the visitor's system first, and says the three steps in Russian. Only files named in that
folder's manifest are served, by their plain names.
"""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import File, Template

from server.deps import Config
from server.errors import NotFound
from server.install.builder import Manifest
from server.web.render import page

SYSTEMS_RU = {
    "windows-amd64": "Windows 10 или 11 (64 бита)",
    "linux-x86_64": "Linux: Astra Linux, Альт, РЕД ОС и другие (64 бита)",
    "deb": "пакет .deb для Astra Linux, Debian, Ubuntu",
}


def visitor_system(user_agent: str) -> str:
    """The bundle for the browser's system: Windows unless the browser says Linux."""
    agent = user_agent.lower()
    return "linux-x86_64" if "linux" in agent and "android" not in agent else "windows-amd64"


class InstallController(Controller):
    path = "/install"
    tags: ClassVar[list[str]] = ["install"]

    @get("/", sync_to_thread=True)
    def install_page(self, request: Request, config: Config) -> Template:
        """Three steps: download, run the installer, log in to this server."""
        manifest = Manifest.load(config.app_bundle_folder)
        system = visitor_system(request.headers.get("User-Agent", ""))
        files = sorted(
            manifest.files if manifest else (),
            key=lambda f: (f.target != system, f.target == "deb", f.target),
        )
        return page(
            request,
            "install.html",
            manifest=manifest,
            files=files,
            system=system,
            systems=SYSTEMS_RU,
            server_url=str(request.base_url).rstrip("/"),
        )

    @get("/{name:str}", sync_to_thread=True)
    def download(self, name: FromPath[str], config: Config) -> File:
        """One archive or package of the bundle, by the name the manifest gives it."""
        folder = config.app_bundle_folder
        manifest = Manifest.load(folder)
        known = {f.file for f in manifest.files} if manifest else set()
        path = folder / name
        if name not in known or "/" in name or "\\" in name or not path.is_file():
            raise NotFound("Такого файла установки нет. Откройте страницу /install.")
        # octet-stream: a guessed type would send .tar.gz as "Content-Encoding: gzip", and
        # the browser would unpack it on the way and save a broken archive
        return File(
            path=path,
            filename=name,
            media_type="application/octet-stream",
            content_disposition_type="attachment",
        )
