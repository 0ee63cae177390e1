"""Who is calling, as far as the network can tell: the client's address and whether the
request came over TLS. Forwarded headers are believed only from configured proxies."""

from __future__ import annotations

from litestar.connection import ASGIConnection

from server.config import ServerConfig


def _peer(connection: ASGIConnection) -> str:
    return connection.client.host if connection.client else "?"


def _from_proxy(connection: ASGIConnection, config: ServerConfig) -> bool:
    return _peer(connection) in config.trusted_proxies


def client_address(connection: ASGIConnection, config: ServerConfig) -> str:
    """The peer's address; behind a trusted proxy, the nearest untrusted X-Forwarded-For hop."""
    peer = _peer(connection)
    if not _from_proxy(connection, config):
        return peer
    hops = [h.strip() for h in connection.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if hop not in config.trusted_proxies:
            return hop[:64]
    return peer


def over_tls(connection: ASGIConnection, config: ServerConfig) -> bool:
    """Whether the browser reached us over HTTPS (directly, or through a trusted proxy)."""
    if connection.url.scheme == "https":
        return True
    proto = connection.headers.get("X-Forwarded-Proto", "")
    return _from_proxy(connection, config) and proto.split(",")[0].strip() == "https"
