"""Security headers on every answer: no framing, no type sniffing, no referrer leaving the
site, and a content security policy that allows only the server's own scripts and styles.

The pages' inline `<style>` needs 'unsafe-inline' for styles only; scripts (the service worker
and the pages' static files) must be files served by us. `/schema` (the OpenAPI viewer, which
loads its own scripts) keeps no CSP but gets the other headers.
"""

from __future__ import annotations

from litestar.types import Message, Scope

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Litestar `before_send` hook: it sees every answer, an unknown path's 404 too."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    present = {bytes(name).lower() for name, _ in headers}
    extra = [*HEADERS]
    if not scope["path"].startswith("/schema"):
        extra.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
    headers += [(n, v) for n, v in extra if n not in present]
    message["headers"] = headers
