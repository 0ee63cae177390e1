"""The network-namespace link really delays, throttles and drops (skipped where it cannot be
built: not root, no `ip`/`tc`/`iptables`, or a kernel that refuses them)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scripts.badlink.live import child_env, free_port
from scripts.badlink.netns import NetnsLink, unavailable_reason
from scripts.badlink.proxy import PROFILES, LinkProfile

REASON = unavailable_reason()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(REASON is not None, reason=f"netns link unavailable: {REASON}"),
]


@contextmanager
def served(tmp_path: Path, profile: LinkProfile, size: int) -> Iterator[tuple[NetnsLink, str]]:
    """A static file of `size` bytes served in the server namespace; the client's URL of it."""
    (tmp_path / "blob").write_bytes(bytes(range(256)) * (size // 256))
    with NetnsLink(profile, tag=f"zt{free_port()}") as link:
        port = 8000
        server = subprocess.Popen(
            link.server_command(
                [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port),
                 "-d", str(tmp_path)]
            ),
            env=child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            url = link.expose(port) + "/blob"
            deadline = time.monotonic() + 10
            while fetch(link, url, timeout=2)["size"] == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
            yield link, url
        finally:
            server.terminate()
            server.wait(5)


def fetch(link: NetnsLink, url: str, timeout: float = 60) -> dict[str, float]:
    """curl from the client namespace: times of the first byte and of the whole, bytes got."""
    out = subprocess.run(
        link.client_command(
            ["curl", "-s", "-o", "/dev/null", "--max-time", str(timeout),
             "-w", "%{time_starttransfer} %{time_total} %{size_download}", url]
        ),
        capture_output=True,
        text=True,
        timeout=timeout + 10,
    )  # fmt: skip
    first, total, size = out.stdout.split()
    return {"first": float(first), "total": float(total), "size": float(size)}


def test_latency_delays_every_round_trip(tmp_path):
    with served(tmp_path, LinkProfile(), 1024) as (link, url):
        quick = fetch(link, url)
    with served(tmp_path, LinkProfile(latency_ms=150), 1024) as (link, url):
        slow = fetch(link, url)
    assert slow["size"] == quick["size"] == 1024
    # request up, reply down: two one-way delays before the first byte
    assert slow["first"] >= 0.3 > quick["first"] + 0.1


def test_bandwidth_throttles_in_the_kernel(tmp_path):
    size = 120 * 1024
    with served(tmp_path, LinkProfile(bandwidth_bps=40_000), size) as (link, url):
        got = fetch(link, url)
        tc = subprocess.run(
            ["tc", "-n", link.server_ns, "qdisc", "show", "dev", link.server_dev],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    assert got["size"] == size
    assert "tbf" in tc and "rate 320Kbit" in tc
    assert 2.5 <= got["total"] < 15  # 3.1 s at 40 000 B/s, less a burst's head start


def test_loss_drops_packets_and_tcp_recovers(tmp_path):
    size = 200 * 1024
    with served(tmp_path, LinkProfile(loss_probability=0.2), size) as (link, url):
        before = link.dropped()
        got = fetch(link, url)
        dropped = link.dropped() - before
    assert got["size"] == size  # the kernel sent the lost segments again
    assert dropped > 0


def test_named_profile_builds_its_rules(tmp_path):
    profile = PROFILES["2G village"]
    with served(tmp_path, profile, 2048) as (link, url):
        rules = subprocess.run(
            link.server_command(["iptables", "-S"]), capture_output=True, text=True, check=True
        ).stdout
        # the profile resets 1 % of packets and drops 10 %: a fetch may fail, as on the real link
        for _ in range(5):
            got = fetch(link, url, timeout=60)
            if got["size"] == 2048:
                break
    assert "--probability 0.10000" in rules and "tcp-reset" in rules
    assert got["size"] == 2048
    assert got["first"] >= 2 * profile.latency_ms / 1000


def test_down_removes_both_namespaces():
    link = NetnsLink(LinkProfile(latency_ms=10), tag=f"zt{free_port()}").up()
    link.down()
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert link.server_ns not in names and link.client_ns not in names
