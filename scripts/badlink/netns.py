"""Client and server in two network namespaces joined by a veth pair, the link shaped by the kernel.

Where the process may create network namespaces (root, `ip`, `tc`, `iptables` installed: see
`unavailable_reason()`), `NetnsLink(profile)` builds

    client namespace  <-- veth, tc tbf each way -->  server namespace
       10.2xx.N.2                                     10.2xx.N.1: relay -> 127.0.0.1:<server>

from the same `LinkProfile` values the TCP proxy uses:

- bandwidth: `tc qdisc ... tbf` on both ends of the veth pair (each direction its own rate);
- loss: `iptables -m statistic --mode random -j DROP` on each namespace's way out, so real TCP
  segments are lost and the kernel retransmits them (`netem` is not built into this kernel;
  `tc ... action gact ... random` is not either: its action module is missing);
- resets: `iptables ... -j REJECT --reject-with tcp-reset` on a random share of the packets
  reaching the server;
- latency: without `netem` the kernel cannot delay packets, so a small relay in the server
  namespace (`python -m scripts.badlink.netns relay`) holds every chunk `latency_ms` in each
  direction before passing it on (in order, without limiting throughput). Stalls, cuts and
  dropped connects stay the proxy's (scripts/badlink/proxy.py).

Commands run inside a namespace with `server_command(argv)` / `client_command(argv)`
(`ip netns exec …`). `down()` deletes both namespaces, the veth pair and their rules with them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence

from scripts.badlink.live import child_env
from scripts.badlink.proxy import LinkProfile

TOOLS = ("ip", "tc", "iptables")


def _run(argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {result.stderr.strip() or result.returncode}")
    return result


def unavailable_reason() -> str | None:
    """Why this process cannot build a namespace link here, or None if it can."""
    if os.geteuid() != 0:
        return "network namespaces need root; this process is not root"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"not installed: {', '.join(missing)} (scripts/install.sh --dev installs them)"
    name = f"zjprobe{os.getpid()}"
    made = _run(["ip", "netns", "add", name], check=False)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    try:
        probe = _run(
            ["ip", "netns", "exec", name, "iptables", "-A", "OUTPUT", "-m", "statistic",
             "--mode", "random", "--probability", "0.5", "-j", "ACCEPT"],
            check=False,
        )  # fmt: skip
        if probe.returncode != 0:
            return f"the kernel refuses iptables rules: {probe.stderr.strip()}"
    finally:
        _run(["ip", "netns", "del", name], check=False)
    return None


class NetnsLink:
    """Two namespaces and the shaped veth pair between them (see the module docstring)."""

    def __init__(self, profile: LinkProfile, *, tag: str | None = None):
        self.profile = profile
        n = os.getpid() % 250 + 1 if tag is None else sum(map(ord, tag)) % 250 + 1
        self.tag = tag or f"zj{os.getpid()}"
        self.server_ns, self.client_ns = f"{self.tag}-s", f"{self.tag}-c"
        self.server_dev, self.client_dev = f"{self.tag}s"[-15:], f"{self.tag}c"[-15:]
        self.server_ip, self.client_ip = f"10.231.{n}.1", f"10.231.{n}.2"
        self._relays: list[subprocess.Popen[bytes]] = []
        self.is_up = False

    # ------------------------------------------------------------------ building

    def up(self) -> NetnsLink:
        try:
            for ns in (self.server_ns, self.client_ns):
                _run(["ip", "netns", "add", ns])
                _run(["ip", "-n", ns, "link", "set", "lo", "up"])
            _run(["ip", "link", "add", self.server_dev, "netns", self.server_ns, "type", "veth",
                  "peer", "name", self.client_dev, "netns", self.client_ns])  # fmt: skip
            self.is_up = True
            for ns, dev, ip in self._ends():
                _run(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", dev])
                _run(["ip", "-n", ns, "link", "set", dev, "up"])
                self._shape(ns, dev)
            if self.profile.reset_probability:
                self._iptables(
                    self.server_ns, "INPUT", "-i", self.server_dev, "-p", "tcp",
                    *self._random(self.profile.reset_probability),
                    "-j", "REJECT", "--reject-with", "tcp-reset",
                )  # fmt: skip
        except BaseException:
            self.down()
            raise
        return self

    def _ends(self) -> list[tuple[str, str, str]]:
        return [
            (self.server_ns, self.server_dev, self.server_ip),
            (self.client_ns, self.client_dev, self.client_ip),
        ]

    @staticmethod
    def _random(probability: float) -> list[str]:
        return ["-m", "statistic", "--mode", "random", "--probability", f"{probability:.6f}"]

    def _iptables(self, ns: str, chain: str, *rule: str) -> None:
        _run(["ip", "netns", "exec", ns, "iptables", "-A", chain, *rule])

    def _shape(self, ns: str, dev: str) -> None:
        bps = self.profile.bandwidth_bps
        if bps:
            # one MTU-sized packet of burst at least; a modem-sized queue (a few seconds of the
            # link) so bursts wait rather than drop: loss is the loss rule's alone
            burst = max(3000, bps // 50)
            limit = max(64_000, bps * 8)
            # large offloaded segments would pass tbf as one packet: keep them MTU-sized
            _run(["ip", "-n", ns, "link", "set", dev, "gso_max_size", "1500"], check=False)
            _run(["tc", "-n", ns, "qdisc", "add", "dev", dev, "root", "tbf",
                  "rate", f"{bps * 8}bit", "burst", str(burst), "limit", str(limit)])  # fmt: skip
        if self.profile.loss_probability:
            self._iptables(
                ns, "OUTPUT", "-o", dev, *self._random(self.profile.loss_probability), "-j", "DROP"
            )

    # ------------------------------------------------------------------ using

    def server_command(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.server_ns, *argv]

    def client_command(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.client_ns, *argv]

    def expose(self, target_port: int, port: int = 8080) -> str:
        """Serve the server namespace's 127.0.0.1:`target_port` on the link (through the delaying
        relay); returns the URL the client namespace uses."""
        proc = subprocess.Popen(
            self.server_command(
                [sys.executable, "-m", "scripts.badlink.netns", "relay",
                 "--listen", f"{self.server_ip}:{port}", "--target", f"127.0.0.1:{target_port}",
                 "--latency-ms", str(self.profile.latency_ms)]
            ),
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        self._relays.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()
        if line != "ready":
            rest = proc.stdout.read().decode(errors="replace") if proc.poll() is not None else ""
            raise RuntimeError(f"the relay did not start: {line} {rest}")
        return f"http://{self.server_ip}:{port}"

    def dropped(self) -> int:
        """Packets the loss and reset rules have taken so far, both namespaces together."""
        total = 0
        for ns in (self.server_ns, self.client_ns):
            listing = _run(["ip", "netns", "exec", ns, "iptables", "-L", "-v", "-x", "-n"]).stdout
            for line in listing.splitlines():
                if re.search(r"\b(DROP|REJECT)\b", line) and "statistic" in line:
                    total += int(line.split()[0])
        return total

    def down(self) -> None:
        """Stop the relays and delete both namespaces (with the veth pair and every rule)."""
        for proc in self._relays:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            if proc.stdout is not None:
                proc.stdout.close()
        self._relays.clear()
        for ns in (self.server_ns, self.client_ns):
            _run(["ip", "netns", "del", ns], check=False)
        self.is_up = False

    def __enter__(self) -> NetnsLink:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()


# ------------------------------------------------------------------ the delaying relay


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy reader to writer, each chunk released `delay` seconds after it arrived."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def release() -> None:
        while True:
            due, chunk = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not chunk:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(chunk)
            await writer.drain()

    sender = asyncio.create_task(release())
    try:
        while True:
            chunk = await reader.read(65536)
            queue.put_nowait((time.monotonic() + delay, chunk))
            if not chunk:
                break
        await sender
    except (ConnectionError, OSError):
        sender.cancel()
        writer.transport.abort()


async def _relay(listen: tuple[str, int], target: tuple[str, int], delay: float) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*target)
        except OSError:
            writer.transport.abort()
            return
        try:
            await asyncio.gather(_pipe(reader, up_writer, delay), _pipe(up_reader, writer, delay))
        finally:
            for w in (writer, up_writer):
                w.close()

    server = await asyncio.start_server(handle, *listen)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Tools of the network-namespace link.")
    sub = parser.add_subparsers(dest="command", required=True)
    relay = sub.add_parser("relay", help="a TCP relay that delays every chunk each way")
    relay.add_argument("--listen", type=_address, required=True, help="host:port")
    relay.add_argument("--target", type=_address, required=True, help="host:port")
    relay.add_argument("--latency-ms", type=float, default=0.0, help="one-way delay, ms")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_relay(args.listen, args.target, args.latency_ms / 1000))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
