"""Tests proving the fault-injecting proxy really does what it claims.

Targets are tiny servers started here on 127.0.0.1: a threaded TCP echo server and a
threaded ``http.server`` serving ``GET /bytes/<n>`` and ``POST /echo``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import http.server
import os
import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from scripts.badlink.proxy import (
    LAN,
    PERFECT,
    PROFILES,
    SATELLITE,
    THREE_G_EVENING,
    VILLAGE_2G,
    FaultProxy,
    LinkProfile,
)

pytestmark = pytest.mark.timeout(30)

IO_TIMEOUT = 5.0


# --------------------------------------------------------------------------- servers


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(IO_TIMEOUT)
        while True:
            try:
                data = sock.recv(65536)
                if not data:
                    return
                sock.sendall(data)
            except OSError:
                return


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # peers are cut/reset on purpose


def _pattern(n: int) -> bytes:
    block = bytes(range(256))
    return (block * (n // 256 + 1))[:n]


class _HttpHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IO_TIMEOUT

    def do_GET(self) -> None:
        if not self.path.startswith("/bytes/"):
            self.send_error(404)
            return
        body = _pattern(int(self.path.removeprefix("/bytes/")))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if len(body) < length:  # request was cut
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _HttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


def _serve(server: socketserver.BaseServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(IO_TIMEOUT)


@pytest.fixture(scope="module")
def echo_port() -> Iterator[int]:
    yield from _serve(_EchoServer(("127.0.0.1", 0), _EchoHandler))


@pytest.fixture(scope="module")
def http_port() -> Iterator[int]:
    yield from _serve(_HttpServer(("127.0.0.1", 0), _HttpHandler))


# --------------------------------------------------------------------------- helpers


def _connect(proxy: FaultProxy) -> socket.socket:
    sock = socket.create_connection(proxy.address, timeout=IO_TIMEOUT)
    sock.settimeout(IO_TIMEOUT)
    return sock


def _recv_all(sock: socket.socket) -> bytes:
    """Read until EOF."""
    parts = []
    while chunk := sock.recv(65536):
        parts.append(chunk)
    return b"".join(parts)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def _echo_roundtrip(proxy: FaultProxy, payload: bytes) -> bytes:
    """Send payload (concurrently with reading), half-close, read the echo until EOF."""
    with _connect(proxy) as sock:

        def send() -> None:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send)
        sender.start()
        try:
            return _recv_all(sock)
        finally:
            sender.join(IO_TIMEOUT)


def _wait_idle(proxy: FaultProxy) -> None:
    deadline = time.monotonic() + IO_TIMEOUT
    while proxy.active_connections and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proxy.active_connections == 0


def _client() -> httpx.Client:
    return httpx.Client(timeout=IO_TIMEOUT)


# --------------------------------------------------------------------------- tests


def test_perfect_forwards_bytes_exactly_and_counts_them(echo_port: int) -> None:
    payload = os.urandom(300_000)
    with FaultProxy(echo_port, PERFECT) as proxy:
        assert _echo_roundtrip(proxy, payload) == payload
        _wait_idle(proxy)
        stats = proxy.stats
    assert stats.connections == 1
    assert stats.bytes_up == stats.bytes_down == len(payload)
    assert (stats.resets, stats.cuts, stats.stalls, stats.drops) == (0, 0, 0, 0)


def test_latency_and_small_chunks_preserve_ordering(echo_port: int) -> None:
    payload = os.urandom(64_000)
    profile = LinkProfile(latency_ms=10, chunk_size=512)
    with FaultProxy(echo_port, profile) as proxy:
        assert _echo_roundtrip(proxy, payload) == payload


def test_perfect_httpx_get(http_port: int) -> None:
    with FaultProxy(http_port, PERFECT) as proxy, _client() as client:
        response = client.get(f"{proxy.url}/bytes/5000")
        assert response.status_code == 200
        assert response.content == _pattern(5000)
        response = client.post(f"{proxy.url}/echo", content=b"hello")
        assert response.content == b"hello"
        assert proxy.stats.connections == 1  # keep-alive went through the proxy


def test_latency_adds_twice_the_one_way_delay_to_a_round_trip(echo_port: int) -> None:
    with FaultProxy(echo_port, LinkProfile(latency_ms=100)) as proxy, _connect(proxy) as sock:
        started = time.monotonic()
        sock.sendall(b"ping")
        assert _recv_exactly(sock, 4) == b"ping"
        elapsed = time.monotonic() - started
    assert 0.19 <= elapsed < 1.5, elapsed


def test_bandwidth_cap_limits_throughput(http_port: int) -> None:
    profile = LinkProfile(bandwidth_bps=20_000, chunk_size=4096)
    with FaultProxy(http_port, profile) as proxy, _client() as client:
        started = time.monotonic()
        response = client.get(f"{proxy.url}/bytes/40000")
        elapsed = time.monotonic() - started
        assert response.content == _pattern(40_000)
        assert 1.5 <= elapsed < 5, elapsed

        proxy.set_profile(PERFECT)
        started = time.monotonic()
        assert len(client.get(f"{proxy.url}/bytes/40000").content) == 40_000
        assert time.monotonic() - started < 0.5


def test_cut_after_bytes_delivers_exactly_n_bytes_then_eof(echo_port: int) -> None:
    profile = LinkProfile(cut_after_bytes=1000, chunk_size=300)
    with FaultProxy(echo_port, profile) as proxy:
        received = _echo_roundtrip(proxy, _pattern(5000))
        _wait_idle(proxy)
        stats = proxy.stats
    assert received == _pattern(1000)
    assert stats.bytes_down == 1000
    assert stats.cuts == 1


def test_cut_with_reset_resets_the_client(echo_port: int) -> None:
    profile = LinkProfile(cut_after_bytes=100, cut_with_reset=True)
    with FaultProxy(echo_port, profile) as proxy, _connect(proxy) as sock:
        sock.sendall(_pattern(1000))
        time.sleep(0.2)  # let the RST arrive before we read anything
        with pytest.raises(ConnectionResetError):
            _recv_all(sock)
        assert proxy.stats.cuts == 1


def test_cut_mid_body_makes_httpx_fail(http_port: int) -> None:
    with FaultProxy(http_port, LinkProfile(cut_after_bytes=5000)) as proxy, _client() as client:
        with pytest.raises(httpx.TransportError):
            client.get(f"{proxy.url}/bytes/100000")
        assert proxy.stats.cuts == 1
        assert proxy.stats.bytes_down == 5000


def test_cut_request_body_makes_httpx_fail(http_port: int) -> None:
    profile = LinkProfile(cut_request_after_bytes=1000)
    with FaultProxy(http_port, profile) as proxy, _client() as client:
        with pytest.raises(httpx.TransportError):
            client.post(f"{proxy.url}/echo", content=_pattern(50_000))
        _wait_idle(proxy)
        assert proxy.stats.bytes_up == 1000
        assert proxy.stats.cuts == 1


def test_reset_probability_one_fails_then_perfect_heals(echo_port: int, http_port: int) -> None:
    broken = LinkProfile(reset_probability=1.0)
    with FaultProxy(echo_port, broken) as proxy:
        for _ in range(3):
            with _connect(proxy) as sock:
                sock.sendall(b"hello")
                with pytest.raises(ConnectionResetError):
                    sock.recv(100)
        assert proxy.stats.resets == 3
        assert proxy.stats.bytes_up == 0

        proxy.set_profile(PERFECT)
        assert _echo_roundtrip(proxy, b"healed") == b"healed"

    with FaultProxy(http_port, broken) as proxy, _client() as client:
        with pytest.raises(httpx.TransportError):
            client.get(f"{proxy.url}/bytes/10")
        proxy.set_profile(PERFECT)
        assert client.get(f"{proxy.url}/bytes/10").content == _pattern(10)
        assert proxy.stats.resets == 1


def test_drop_connect_closes_immediately(echo_port: int) -> None:
    with FaultProxy(echo_port, LinkProfile(drop_connect_probability=1.0)) as proxy:
        with _connect(proxy) as sock:
            assert sock.recv(100) == b""
        assert proxy.stats.drops == 1
        assert proxy.stats.connections == 1


def test_stall_pauses_forwarding(echo_port: int) -> None:
    profile = LinkProfile(stall_probability=1.0, stall_ms=150)
    with FaultProxy(echo_port, profile) as proxy, _connect(proxy) as sock:
        started = time.monotonic()
        sock.sendall(b"x")
        assert sock.recv(10) == b"x"
        elapsed = time.monotonic() - started
        assert proxy.stats.stalls == 2  # one per direction
    assert elapsed >= 0.29, elapsed


def test_loss_delays_a_chunk_by_the_retransmission_timeout_and_keeps_order(
    echo_port: int,
) -> None:
    payload = os.urandom(8_000)
    lossless = LinkProfile(chunk_size=1000)
    lossy = LinkProfile(chunk_size=1000, loss_probability=1.0, retransmit_ms=100)
    with FaultProxy(echo_port, lossless) as proxy:
        started = time.monotonic()
        assert _echo_roundtrip(proxy, payload) == payload
        clean = time.monotonic() - started
        assert proxy.stats.losses == 0
    with FaultProxy(echo_port, lossy) as proxy:
        started = time.monotonic()
        assert _echo_roundtrip(proxy, payload) == payload  # in order, nothing missing
        elapsed = time.monotonic() - started
        assert proxy.stats.losses >= 16  # every chunk, both ways
    # every chunk waits its timeout, but a later one waits in the pipe with the earlier
    assert elapsed >= clean + 0.19, (clean, elapsed)


def test_a_lost_chunk_occupies_the_link_twice(http_port: int) -> None:
    profile = LinkProfile(bandwidth_bps=20_000, chunk_size=4096)
    lossy = dataclasses.replace(profile, loss_probability=1.0)
    with FaultProxy(http_port, lossy) as proxy, _client() as client:
        started = time.monotonic()
        assert client.get(f"{proxy.url}/bytes/20000").content == _pattern(20_000)
        elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 5, elapsed  # 20 KB sent twice at 20 KB/s


def test_close_closes_listener_and_live_connections(echo_port: int) -> None:
    proxy = FaultProxy(echo_port, PERFECT).start_in_thread()
    try:
        port = proxy.port
        with _connect(proxy) as sock:
            sock.sendall(b"abc")
            assert _recv_exactly(sock, 3) == b"abc"
            proxy.close()
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(10) == b""
    finally:
        proxy.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT).close()


def _reset_pattern(echo_port: int, seed: int) -> list[bool]:
    outcome = []
    with FaultProxy(echo_port, LinkProfile(reset_probability=0.5), seed=seed) as proxy:
        for _ in range(12):
            with _connect(proxy) as sock:
                sock.sendall(b"?")
                try:
                    outcome.append(sock.recv(10) != b"?")
                except ConnectionResetError:
                    outcome.append(True)
    return outcome


def test_same_seed_same_faults(echo_port: int) -> None:
    first = _reset_pattern(echo_port, seed=7)
    assert first == _reset_pattern(echo_port, seed=7)
    assert any(first) and not all(first)


async def test_async_usage(echo_port: int) -> None:
    async with FaultProxy(echo_port, LinkProfile(latency_ms=20)) as proxy:
        reader, writer = await asyncio.open_connection(*proxy.address)
        try:
            started = time.monotonic()
            writer.write(b"async")
            assert await asyncio.wait_for(reader.readexactly(5), IO_TIMEOUT) == b"async"
            assert time.monotonic() - started >= 0.039
        finally:
            writer.close()
            await writer.wait_closed()
    assert proxy.stats.bytes_up == proxy.stats.bytes_down == 5


def test_only_loopback_targets_allowed() -> None:
    with pytest.raises(ValueError):
        FaultProxy(80, target_host="10.0.0.1")
    with pytest.raises(ValueError):
        FaultProxy(80, target_host="example.org")
    with pytest.raises(ValueError):
        LinkProfile(reset_probability=1.5)


def test_named_profiles() -> None:
    assert LinkProfile() == PERFECT
    assert LAN.rtt_ms <= 2
    assert SATELLITE.rtt_ms == 700
    assert VILLAGE_2G.bandwidth_bps * 8 == 64_000
    assert VILLAGE_2G.rtt_ms == 600
    assert VILLAGE_2G.reset_probability > 0
    assert VILLAGE_2G.loss_probability == 0.10
    assert list(PROFILES) == ["LAN", "3G evening", "satellite", "2G village"]
    assert THREE_G_EVENING.stall_probability > 0
    tweaked = dataclasses.replace(VILLAGE_2G, reset_probability=0.0)
    assert tweaked.latency_ms == VILLAGE_2G.latency_ms
