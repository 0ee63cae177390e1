"""The pages' static files: style sheet, service worker and its registration script, web app
manifest and icons. Served from memory with a content version in each URL, so a phone on a slow
link fetches them once and keeps them (CSP: scripts and styles from 'self' only)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from litestar import Controller, Response, get
from litestar.params import FromPath

from server.errors import NotFound

STATIC = Path(__file__).parent / "static"
TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webmanifest": "application/manifest+json",
}
PUBLIC = ("zhurnal.css", "offline.js", "icon.svg", "icon-192.png", "icon-512.png")
FILES = {name: (STATIC / name).read_bytes() for name in PUBLIC}
VERSIONS = {name: hashlib.sha256(data).hexdigest()[:10] for name, data in FILES.items()}
YEAR = 365 * 24 * 3600


def static_url(name: str) -> str:
    """The URL of a static file, changed whenever its content changes."""
    return f"/static/{name}?v={VERSIONS[name]}"


def _service_worker() -> bytes:
    precached = [static_url(n) for n in ("zhurnal.css", "offline.js", "icon-192.png")]
    version = hashlib.sha256("".join(precached).encode()).hexdigest()[:10]
    text = (STATIC / "sw.js").read_text(encoding="utf-8")
    text = text.replace('"__STATIC__"', json.dumps(precached)).replace("__VERSION__", version)
    return text.encode()


SERVICE_WORKER = _service_worker()
MANIFEST = (STATIC / "manifest.webmanifest").read_bytes()


class StaticController(Controller):
    """No guard: nothing here is personal."""

    @get("/static/{name:str}", sync_to_thread=False)
    def static(self, name: FromPath[str]) -> Response[bytes]:
        if name not in FILES:
            raise NotFound("Файл не найден.")
        return Response(
            FILES[name],
            media_type=TYPES[Path(name).suffix],
            headers={"Cache-Control": f"public, max-age={YEAR}, immutable"},
        )

    @get("/sw.js", sync_to_thread=False)
    def service_worker(self) -> Response[bytes]:
        """At the root, so its scope covers /diary and /portfolio; always revalidated, so a new
        release replaces the old worker at the next visit."""
        return Response(
            SERVICE_WORKER,
            media_type=TYPES[".js"],
            headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
        )

    @get("/manifest.webmanifest", sync_to_thread=False)
    def manifest(self) -> Response[bytes]:
        return Response(
            MANIFEST, media_type=TYPES[".webmanifest"], headers={"Cache-Control": "no-cache"}
        )
