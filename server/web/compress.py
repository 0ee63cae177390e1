"""gzip for the pages' text (HTML, CSS, scripts, the manifest): a week of the diary is read on
evening 3G, where every kilobyte is a tenth of a second. Downloads (PDF, documents, archives,
ranges) pass untouched, which is why this is not Litestar's app-wide compression."""

from __future__ import annotations

import gzip

from litestar.types import ASGIApp, Message, Receive, Scope, Send

COMPRESSIBLE = (
    b"text/html",
    b"text/css",
    b"text/javascript",
    b"application/manifest+json",
    b"image/svg+xml",
)
MINIMUM = 500  # below a packet, gzip saves nothing


def _accepts_gzip(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept-encoding":
            return b"gzip" in value.lower()
    return False


class GzipPages:
    """ASGI middleware for the web router: buffers a text response, gzips it when it is worth it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _accepts_gzip(scope):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", ()))
                kind = headers.get(b"content-type", b"").split(b";")[0].strip()
                if (
                    kind in COMPRESSIBLE
                    and b"content-encoding" not in headers
                    and b"content-range" not in headers
                ):
                    start = message
                    return
                await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                await _send_whole(send, start, b"".join(chunks))
            else:
                await send(message)

        await self.app(scope, receive, buffered)


async def _send_whole(send: Send, start: Message, body: bytes) -> None:
    headers = [(k, v) for k, v in start.get("headers", ()) if k != b"content-length"]
    if len(body) >= MINIMUM:
        body = gzip.compress(body, compresslevel=6, mtime=0)
        headers.append((b"content-encoding", b"gzip"))
    vary = [v for k, v in headers if k == b"vary"]
    if not any(b"accept-encoding" in v.lower() for v in vary):
        headers.append((b"vary", b"Accept-Encoding"))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
