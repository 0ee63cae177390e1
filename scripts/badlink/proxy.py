"""Fault-injecting TCP proxy for tests and benchmarks.

The proxy listens on ``127.0.0.1`` on an ephemeral port and forwards every accepted
connection to ``(target_host, target_port)`` — which must be a loopback address — while
applying a :class:`LinkProfile`: one-way latency, a bandwidth cap, random stalls, random
resets (RST), cuts after N bytes and dropped connects.

Synchronous usage (the proxy runs its own event loop in a background thread)::

    with FaultProxy(server_port, VILLAGE_2G, seed=1) as proxy:
        httpx.get(f"{proxy.url}/health")
        proxy.set_profile(PERFECT)  # heal the link
        print(proxy.stats)

Asynchronous usage (the proxy runs on the caller's event loop)::

    proxy = FaultProxy(server_port, SATELLITE)
    await proxy.start()
    try:
        ...
    finally:
        await proxy.stop()

or ``async with FaultProxy(...) as proxy: ...``.

Model, per direction (client→server is "up", server→client is "down"):

* Every chunk read from one side (at most ``chunk_size`` bytes) may first trigger a
  reset (``reset_probability``: both sides are aborted with RST) or a stall
  (``stall_probability``: forwarding in this direction pauses for ``stall_ms``).
* The bandwidth cap is a serialisation model shared by all connections of the proxy:
  a chunk occupies the link for ``len / bandwidth_bps`` seconds after the previous one
  finished; the proxy does not read the next chunk from that side until then, so the
  sender feels TCP back-pressure.
* Each chunk is delivered ``latency_ms`` after it left the link. Delivery is FIFO per
  direction, so ordering is preserved and latency is pipelined (not added per chunk
  serially).
* ``cut_after_bytes`` / ``cut_request_after_bytes``: once that many bytes have been
  forwarded in the direction, the connection is cut: both sides are closed (FIN, or RST
  when ``cut_with_reset``) and the receiver gets exactly that many bytes.
* ``drop_connect_probability``: the connection is accepted and closed at once, before
  the upstream is contacted.

Randomness is deterministic: each connection/direction gets its own
``random.Random(f"{seed}/{connection_index}/{direction}")``, so a given connection sees
the same fault sequence regardless of how connections interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import random
import socket
import struct
import threading
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "LAN",
    "PERFECT",
    "PROFILES",
    "SATELLITE",
    "THREE_G_EVENING",
    "VILLAGE_2G",
    "FaultProxy",
    "LinkProfile",
    "ProxyStats",
]

_LOOPBACK = "127.0.0.1"
_Direction = Literal["up", "down"]


@dataclass(frozen=True)
class LinkProfile:
    """Characteristics of the emulated link. Use ``dataclasses.replace`` to derive."""

    latency_ms: float = 0.0
    """One-way delay added to every chunk, in each direction (RTT ≈ 2 × latency_ms)."""
    bandwidth_bps: int = 0
    """Bytes per second per direction (shared by all connections); 0 = unlimited."""
    reset_probability: float = 0.0
    """Per chunk: abort both sides of the connection with RST."""
    stall_probability: float = 0.0
    """Per chunk: pause forwarding in that direction for ``stall_ms``."""
    stall_ms: float = 0.0
    cut_after_bytes: int | None = None
    """Cut the connection after forwarding this many bytes server→client."""
    cut_request_after_bytes: int | None = None
    """Cut the connection after forwarding this many bytes client→server."""
    cut_with_reset: bool = False
    max_cuts: int | None = None
    """At most this many connections are cut (counted by the proxy); later ones pass whole:
    a link that breaks once and comes back."""
    """Cuts close with RST instead of FIN (the receiver may then lose buffered bytes)."""
    drop_connect_probability: float = 0.0
    """Per connection: accept, then close immediately without contacting the upstream."""
    loss_probability: float = 0.0
    """Per chunk: the segment is lost and TCP sends it again after ``retransmit_ms``. It
    occupies the link twice, and, delivery being in order, holds back what follows (a proxy
    above TCP cannot drop bytes; this is what loss costs the application)."""
    retransmit_ms: float = 0.0
    """The retransmission timeout a lost chunk waits (Linux: at least 200 ms, about RTT + 4
    deviations)."""
    chunk_size: int = 16384
    """Maximum bytes read (and judged by the per-chunk dice) at once."""

    def __post_init__(self) -> None:
        for name in (
            "reset_probability",
            "stall_probability",
            "drop_connect_probability",
            "loss_probability",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value!r}")
        for name in ("latency_ms", "bandwidth_bps", "stall_ms", "retransmit_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        for name in ("cut_after_bytes", "cut_request_after_bytes"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0 or None")
        if self.chunk_size <= 0:
            raise ValueError("chunk_size must be > 0")

    @property
    def rtt_ms(self) -> float:
        return 2 * self.latency_ms


PERFECT = LinkProfile()
"""No faults, no delay: a transparent proxy."""

LAN = LinkProfile(latency_ms=0.5, bandwidth_bps=12_500_000)
"""100 Mbit/s school LAN, ~1 ms RTT."""

THREE_G_EVENING = LinkProfile(
    latency_ms=150,
    bandwidth_bps=48_000,
    stall_probability=0.02,
    stall_ms=1500,
    reset_probability=0.002,
    chunk_size=4096,
)
"""Congested evening 3G: ~384 kbit/s, 300 ms RTT, occasional stalls and rare resets."""

SATELLITE = LinkProfile(latency_ms=350, bandwidth_bps=250_000, chunk_size=8192)
"""Geostationary satellite: 700 ms RTT, ~2 Mbit/s."""

VILLAGE_2G = LinkProfile(
    latency_ms=300,
    bandwidth_bps=8_000,
    loss_probability=0.10,
    retransmit_ms=1000,
    reset_probability=0.01,
    stall_probability=0.03,
    stall_ms=2000,
    drop_connect_probability=0.02,
    chunk_size=1460,
)
"""Rural EDGE/2G: 64 kbit/s, 600 ms RTT, 10 % loss, resets, stalls and dropped connects."""

PROFILES = {
    "LAN": LAN,
    "3G evening": THREE_G_EVENING,
    "satellite": SATELLITE,
    "2G village": VILLAGE_2G,
}
"""The named links of the benchmarks, best first."""


@dataclass(frozen=True)
class ProxyStats:
    """Snapshot of the proxy counters (``FaultProxy.stats``)."""

    connections: int = 0
    """Accepted client connections."""
    bytes_up: int = 0
    """Bytes forwarded client→server."""
    bytes_down: int = 0
    """Bytes forwarded server→client."""
    resets: int = 0
    """Connections aborted by ``reset_probability``."""
    cuts: int = 0
    """Connections cut by ``cut_after_bytes`` / ``cut_request_after_bytes``."""
    stalls: int = 0
    """Stalls injected (per chunk and direction)."""
    drops: int = 0
    """Connections dropped right after accept (``drop_connect_probability``)."""
    upstream_failures: int = 0
    """Connections whose upstream connect failed or timed out."""
    losses: int = 0
    """Chunks lost and sent again (``loss_probability``)."""


# Queue items: (kind, deliver_at, data)
_DATA = "data"
_EOF = "eof"
_CUT = "cut"


class _Conn:
    __slots__ = ("client", "fault", "index", "upstream")

    def __init__(self, index: int, client: asyncio.StreamWriter) -> None:
        self.index = index
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.fault: str | None = None  # "reset" | "cut" | "error"

    def writers(self) -> list[asyncio.StreamWriter]:
        return [w for w in (self.client, self.upstream) if w is not None]


def _close_writer(writer: asyncio.StreamWriter, *, rst: bool) -> None:
    transport = writer.transport
    if rst:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        writer.close()


class FaultProxy:
    """Fault-injecting TCP proxy from ``127.0.0.1:<port>`` to a loopback target."""

    def __init__(
        self,
        target_port: int,
        profile: LinkProfile = PERFECT,
        *,
        seed: int = 0,
        target_host: str = _LOOPBACK,
        connect_timeout: float = 5.0,
        close_timeout: float = 2.0,
        queue_chunks: int = 64,
    ) -> None:
        if target_host == "localhost":
            target_host = _LOOPBACK
        try:
            is_loopback = ipaddress.ip_address(target_host).is_loopback
        except ValueError:
            is_loopback = False
        if not is_loopback:
            raise ValueError(f"FaultProxy only targets loopback addresses, not {target_host!r}")
        if not isinstance(profile, LinkProfile):
            raise TypeError("profile must be a LinkProfile")
        self.target_host = target_host
        self.target_port = target_port
        self.seed = seed
        self.connect_timeout = connect_timeout
        self.close_timeout = close_timeout
        self.queue_chunks = queue_chunks
        self._profile = profile

        self._lock = threading.Lock()
        self._counters: dict[str, int] = dict.fromkeys(
            (f.name for f in dataclasses.fields(ProxyStats)), 0
        )
        self._active = 0

        self._port: int | None = None
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[_Conn] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._next_index = 0
        self._closing = False
        self._link_free_at: dict[str, float] = {"up": 0.0, "down": 0.0}

    # ------------------------------------------------------------------ public API

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FaultProxy is not running")
        return self._port

    @property
    def host(self) -> str:
        return _LOOPBACK

    @property
    def address(self) -> tuple[str, int]:
        return (_LOOPBACK, self.port)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` — convenience for HTTP clients."""
        return f"http://{_LOOPBACK}:{self.port}"

    @property
    def profile(self) -> LinkProfile:
        return self._profile

    def set_profile(self, profile: LinkProfile) -> None:
        """Switch the link profile; applies to the next chunk of every connection."""
        if not isinstance(profile, LinkProfile):
            raise TypeError("profile must be a LinkProfile")
        self._profile = profile  # a single reference assignment: atomic

    @property
    def stats(self) -> ProxyStats:
        """Thread-safe snapshot of the counters."""
        with self._lock:
            return ProxyStats(**self._counters)

    def reset_stats(self) -> None:
        with self._lock:
            for key in self._counters:
                self._counters[key] = 0

    @property
    def active_connections(self) -> int:
        """Client connections currently being handled."""
        with self._lock:
            return self._active

    # --- threaded mode

    def start_in_thread(self) -> FaultProxy:
        """Start the proxy on a private event loop in a daemon thread."""
        if self._loop is not None:
            raise RuntimeError("FaultProxy already started")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run_loop, args=(loop,), name="faultproxy", daemon=True
        )
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start_server(), loop)
        try:
            future.result(timeout=self.connect_timeout)
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Close the listener and all live connections. Idempotent.

        In threaded mode this also stops the background loop. In async mode (after
        ``await start()``) it must be called from the loop's thread and only schedules
        the teardown; prefer ``await stop()`` there.
        """
        loop, thread = self._loop, self._thread
        if loop is None:
            return
        if thread is None:  # async mode
            self._abort_all()
            return
        if thread.is_alive():
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            with contextlib.suppress(Exception):
                future.result(timeout=self.close_timeout + 5)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
        self._loop = None
        self._thread = None
        self._port = None

    def __enter__(self) -> FaultProxy:
        return self.start_in_thread()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- async mode

    async def start(self) -> FaultProxy:
        """Start on the running event loop (async mode)."""
        if self._loop is not None:
            raise RuntimeError("FaultProxy already started")
        self._loop = asyncio.get_running_loop()
        try:
            await self._start_server()
        except BaseException:
            self._loop = None
            raise
        return self

    async def stop(self) -> None:
        """Async counterpart of :meth:`close` for async mode."""
        if self._loop is None:
            return
        if self._thread is not None:
            await asyncio.to_thread(self.close)
            return
        await self._shutdown()
        self._loop = None
        self._port = None

    async def __aenter__(self) -> FaultProxy:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ internals

    def _bump(self, **deltas: int) -> None:
        with self._lock:
            for key, value in deltas.items():
                self._counters[key] += value

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    async def _start_server(self) -> None:
        self._closing = False
        self._server = await asyncio.start_server(self._handle, _LOOPBACK, 0)
        self._port = self._server.sockets[0].getsockname()[1]

    def _abort_all(self) -> None:
        self._closing = True
        if self._server is not None:
            self._server.close()
        for conn in list(self._conns):
            for writer in conn.writers():
                writer.transport.abort()
        for task in list(self._handlers):
            task.cancel()

    async def _shutdown(self) -> None:
        server = self._server
        self._abort_all()
        deadline = asyncio.get_running_loop().time() + self.close_timeout + 2
        for _ in range(3):
            await asyncio.sleep(0)  # let just-accepted handlers start (and bail out)
        while self._handlers:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            await asyncio.wait(list(self._handlers), timeout=remaining)
        if server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), self.close_timeout)
        self._server = None
        # Let the aborted transports run connection_lost (closes their sockets).
        for _ in range(3):
            await asyncio.sleep(0)

    async def _handle(self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter):
        if self._closing:  # accepted while shutting down
            client.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._serve_connection(client_reader, client)
        except asyncio.CancelledError:
            # Cancelled by close()/stop(): end normally. (CPython 3.11's stream callback
            # calls task.exception() on the handler and would log a cancelled one.)
            pass
        finally:
            self._handlers.discard(task)

    async def _serve_connection(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        index = self._next_index
        self._next_index += 1
        conn = _Conn(index, client)
        self._conns.add(conn)
        with self._lock:
            self._counters["connections"] += 1
            self._active += 1
        pumps: list[asyncio.Task[None]] = []
        rst = False
        try:
            profile = self._profile
            accept_rng = random.Random(f"{self.seed}/{index}/accept")
            if profile.drop_connect_probability and (
                accept_rng.random() < profile.drop_connect_probability
            ):
                self._bump(drops=1)
                return
            try:
                upstream_reader, upstream = await asyncio.wait_for(
                    asyncio.open_connection(self.target_host, self.target_port),
                    self.connect_timeout,
                )
            except (OSError, TimeoutError):
                self._bump(upstream_failures=1)
                rst = True
                return
            conn.upstream = upstream
            up_q: asyncio.Queue[tuple[str, float, bytes]] = asyncio.Queue(self.queue_chunks)
            down_q: asyncio.Queue[tuple[str, float, bytes]] = asyncio.Queue(self.queue_chunks)
            pumps = [
                asyncio.create_task(self._pump_in(conn, "up", client_reader, up_q)),
                asyncio.create_task(self._pump_out(conn, "up", upstream, up_q)),
                asyncio.create_task(self._pump_in(conn, "down", upstream_reader, down_q)),
                asyncio.create_task(self._pump_out(conn, "down", client, down_q)),
            ]
            pending: set[asyncio.Task[None]] = set(pumps)
            while pending and conn.fault is None:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for t in done:
                    if not t.cancelled() and t.exception() is not None:
                        conn.fault = "error"
            if conn.fault == "reset":
                rst = True
            elif conn.fault == "cut":
                rst = self._profile.cut_with_reset
            elif conn.fault == "error":
                rst = True
        finally:
            for t in pumps:
                t.cancel()
            if pumps:
                await asyncio.gather(*pumps, return_exceptions=True)
            writers = conn.writers()
            for writer in writers:
                _close_writer(writer, rst=rst)
            for writer in writers:
                try:
                    await asyncio.wait_for(writer.wait_closed(), self.close_timeout)
                except TimeoutError:
                    writer.transport.abort()
                except (Exception, asyncio.CancelledError):
                    pass
            self._conns.discard(conn)
            with self._lock:
                self._active -= 1

    async def _pump_in(
        self,
        conn: _Conn,
        direction: _Direction,
        reader: asyncio.StreamReader,
        queue: asyncio.Queue[tuple[str, float, bytes]],
    ) -> None:
        """Read chunks from one side, roll the dice, shape, and enqueue for delivery."""
        loop = asyncio.get_running_loop()
        rng = random.Random(f"{self.seed}/{conn.index}/{direction}")
        forwarded = 0
        while True:
            data = await reader.read(self._profile.chunk_size)
            profile = self._profile
            if not data:
                await queue.put((_EOF, loop.time() + profile.latency_ms / 1000, b""))
                return
            if profile.reset_probability and rng.random() < profile.reset_probability:
                self._bump(resets=1)
                conn.fault = "reset"
                return
            if profile.stall_probability and rng.random() < profile.stall_probability:
                self._bump(stalls=1)
                await asyncio.sleep(profile.stall_ms / 1000)
            limit = (
                profile.cut_after_bytes if direction == "down" else profile.cut_request_after_bytes
            )
            if profile.max_cuts is not None and self._counters["cuts"] >= profile.max_cuts:
                limit = None
            cut = limit is not None and forwarded + len(data) >= limit
            if cut:
                assert limit is not None
                data = data[: max(0, limit - forwarded)]
            lost = bool(data) and bool(profile.loss_probability)
            lost = lost and rng.random() < profile.loss_probability
            if lost:
                self._bump(losses=1)
            now = loop.time()
            tx_end = now
            if profile.bandwidth_bps > 0 and data:
                sends = 2 if lost else 1
                tx_end = max(now, self._link_free_at[direction])
                tx_end += sends * len(data) / profile.bandwidth_bps
                self._link_free_at[direction] = tx_end
            deliver_at = tx_end + profile.latency_ms / 1000
            if lost:
                deliver_at += profile.retransmit_ms / 1000
            if data:
                await queue.put((_DATA, deliver_at, data))
                forwarded += len(data)
            if cut:
                await queue.put((_CUT, deliver_at, b""))
                return
            # Pace reads to the link rate so the sender feels back-pressure.
            delay = tx_end - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)

    async def _pump_out(
        self,
        conn: _Conn,
        direction: _Direction,
        writer: asyncio.StreamWriter,
        queue: asyncio.Queue[tuple[str, float, bytes]],
    ) -> None:
        """Deliver queued chunks in order, each no earlier than its delivery time."""
        loop = asyncio.get_running_loop()
        counter = "bytes_up" if direction == "up" else "bytes_down"
        while True:
            kind, deliver_at, data = await queue.get()
            delay = deliver_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if kind == _DATA:
                self._bump(**{counter: len(data)})
                writer.write(data)
                await writer.drain()
            elif kind == _EOF:
                if writer.can_write_eof() and not writer.is_closing():
                    writer.write_eof()
                return
            else:  # _CUT
                self._bump(cuts=1)
                conn.fault = "cut"
                return

    def __repr__(self) -> str:
        state = f"port={self._port}" if self._port else "stopped"
        return f"<FaultProxy {state} -> {self.target_host}:{self.target_port} {self._profile}>"
