"""Sync over bad links: the demo teacher's first sync and one school day, on named links.

    python -m scripts.bench.link_bench [--profiles "LAN,2G village"] [--quick] [--output PATH]

A real server process (uvicorn, `journal-server serve`) holds the demo school without the
teacher's last busy day (as scripts/bench/sync_bench.py prepares it). A fresh laptop logs in
over a clean link, then syncs through the fault-injecting proxy of scripts/badlink shaped as
each profile: the whole year first, then the day, entered on the laptop. A failed sync is
retried at once, as the background sync would after its backoff (the backoff itself is not
counted). Bytes are everything the proxy carried both ways: HTTP headers, bodies and what a
cut threw away; round trips are HTTP requests.

The baseline in the same run: the same events posted as plain JSON (`msgspec.json`) through
the same profile to a sink that decodes and counts them, retried until one POST gets through.
A baseline that would take longer than `--json-limit` seconds at the profile's bandwidth is
not run; its size is given.

Resumption: on a clean link, a fresh laptop's first sync is cut once at 10, 50 and 90 % of
its bytes; what it receives again after the cut, beside what it had received before it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
import uvicorn
from litestar import Litestar

from client_tui.services.api import TemporaryFailure
from client_tui.services.session import Session
from scripts.badlink.live import LOOPBACK, LiveServer, free_port
from scripts.badlink.proxy import PERFECT, PROFILES, FaultProxy, LinkProfile
from scripts.bench import sync_bench
from scripts.bench.sync_bench import Setting, afternoon_clock, enter_day, machine, prepare
from scripts.seed_demo import build_demo_school
from shared.model import JournalEvent

SECTION = "## Sync over bad links"
CUTS = (0.1, 0.5, 0.9)

Progress = Callable[[str], None]


@dataclass
class Transfer:
    """One measured transfer over one profile."""

    up: int = 0
    down: int = 0
    requests: int = 0
    failures: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.up + self.down


@dataclass
class ProfileRow:
    profile: str
    first: Transfer
    day: Transfer
    events_first: int
    events_day: int
    json_first: Transfer | None  # None: not run (too long at this bandwidth)
    json_first_bytes: int
    json_day: Transfer


@dataclass
class CutRow:
    fraction: float
    before_cut: int  # bytes received when the link broke
    resent: int  # bytes received again that had already arrived once
    seconds: float


class Counter:
    """httpx event hook: counts requests."""

    def __init__(self) -> None:
        self.requests = 0

    def __call__(self, request: httpx.Request) -> None:
        self.requests += 1


class JsonSink:
    """The baseline's endpoint (sync_bench's: decodes and counts), served by uvicorn in a
    thread of this process."""

    def __init__(self) -> None:
        self.port = free_port()
        app = Litestar(route_handlers=[sync_bench._take_events])
        config = uvicorn.Config(app, host=LOOPBACK, port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> JsonSink:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("the JSON sink did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class LinkLaptop:
    """A teacher's laptop logged in over a clean link, syncing through `proxy`."""

    def __init__(self, home: Path, proxy: FaultProxy, setting: Setting):
        self.proxy = proxy
        self.counter = Counter()
        self.http = httpx.Client(
            timeout=httpx.Timeout(60.0, connect=20.0), event_hooks={"request": [self.counter]}
        )
        profile = proxy.profile
        proxy.set_profile(PERFECT)
        self.session = Session(home, http=self.http)
        teacher = setting.teacher
        self.session.login(
            proxy.url, teacher.login, teacher.password, device_name="bench", first_sync=False
        )
        afternoon_clock(self.session.book, setting.day)
        proxy.set_profile(profile)

    def close(self) -> None:
        self.session.close()
        self.http.close()

    def sync(self, deadline_s: float) -> Transfer:
        """Sync until complete, retrying failures at once; what crossed the link."""
        self.proxy.reset_stats()
        requests = self.counter.requests
        failures = 0
        started = time.perf_counter()
        while True:
            try:
                if self.session.sync().complete:
                    break
            except TemporaryFailure:
                failures += 1
            if time.perf_counter() - started > deadline_s:
                raise TimeoutError(f"no complete sync in {deadline_s} s over {self.proxy}")
        seconds = time.perf_counter() - started
        stats = self.proxy.stats
        return Transfer(
            up=stats.bytes_up,
            down=stats.bytes_down,
            requests=self.counter.requests - requests,
            failures=failures,
            seconds=seconds,
        )


def post_json(proxy: FaultProxy, events: list[JournalEvent], deadline_s: float) -> Transfer:
    body = msgspec.json.encode(events)
    proxy.reset_stats()
    transfer = Transfer()
    started = time.perf_counter()
    with httpx.Client(timeout=httpx.Timeout(600.0, connect=20.0)) as http:
        while time.perf_counter() - started < deadline_s:
            transfer.requests += 1
            try:
                response = http.post(
                    f"{proxy.url}/events",
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
            except httpx.TransportError:
                transfer.failures += 1
                continue
            if response.status_code == 200 and response.json()["count"] == len(events):
                break
            transfer.failures += 1
        else:
            raise TimeoutError(f"the JSON baseline did not get through in {deadline_s} s")
    transfer.seconds = time.perf_counter() - started
    stats = proxy.stats
    transfer.up, transfer.down = stats.bytes_up, stats.bytes_down
    return transfer


def run(
    *,
    profiles: list[str],
    quick: bool = False,
    json_limit: float = 120.0,
    progress: Progress = lambda message: None,
) -> tuple[list[ProfileRow], list[CutRow]]:
    plan = sync_bench.plan_for(quick=quick, scale=1.0)
    # the year's days lie partly ahead of the machine's clock: the live server is told so
    os.environ.setdefault("ZHURNAL_MAX_CLOCK_AHEAD", str(sync_bench.YEAR_AHEAD))
    progress(f"building the demo school up to {plan.lessons_until:%d.%m.%Y}")
    school = build_demo_school(
        lessons_until=plan.lessons_until, today=plan.lessons_until + dt.timedelta(days=1)
    )
    setting = prepare(school)
    everything = [e for j in setting.readable for e in setting.loaded[j]]
    json_first_bytes = len(msgspec.json.encode(everything))
    rows: list[ProfileRow] = []
    cuts: list[CutRow] = []
    with tempfile.TemporaryDirectory(prefix="zhurnal-link-") as tmp, JsonSink() as sink:
        folder = Path(tmp)
        progress(f"loading {len(everything)} events into the server's database")
        config, _ = sync_bench.make_server(folder / "server", setting, setting.loaded)
        server = LiveServer(config.database, free_port(), folder / "server.log")
        server.start()
        try:
            for n, name in enumerate(profiles):
                profile = PROFILES[name]
                progress(f"{name}: first sync of {len(everything)} events")
                with (
                    FaultProxy(server.port, profile, seed=n) as proxy,
                    FaultProxy(sink.port, profile, seed=100 + n) as json_proxy,
                ):
                    laptop = LinkLaptop(folder / f"laptop-{n}", proxy, setting)
                    try:
                        first = laptop.sync(deadline_s=1800)
                        progress(f"{name}: entering and syncing the day")
                        entered = enter_day(laptop.session.book, setting.lessons)
                        day = laptop.sync(deadline_s=600)
                    finally:
                        laptop.close()
                    progress(f"{name}: JSON baseline")
                    rate = profile.bandwidth_bps or 10**9
                    json_first = (
                        post_json(json_proxy, everything, deadline_s=json_limit * 3)
                        if json_first_bytes / rate <= json_limit
                        else None
                    )
                    json_day = post_json(json_proxy, entered, deadline_s=600)
                # The day's events stay on the server; the next profile's laptop brings them in
                # its first sync too, so the server is put back for each profile.
                server.stop()
                sync_bench.make_server(folder / f"server-{n}", setting, setting.loaded)
                server = LiveServer(
                    folder / f"server-{n}" / "server.sqlite", server.port, folder / "server.log"
                )
                server.start()
                rows.append(
                    ProfileRow(
                        profile=name,
                        first=first,
                        day=day,
                        events_first=len(everything),
                        events_day=len(entered),
                        json_first=json_first,
                        json_first_bytes=json_first_bytes,
                        json_day=json_day,
                    )
                )
            whole = None
            with FaultProxy(server.port, PERFECT, seed=7) as proxy:
                for n, fraction in enumerate((None, *CUTS)):
                    laptop = LinkLaptop(folder / f"cut-{n}", proxy, setting)
                    try:
                        if fraction is not None:
                            assert whole is not None
                            proxy.set_profile(
                                LinkProfile(cut_after_bytes=int(whole * fraction), max_cuts=1)
                            )
                            progress(f"first sync cut at {fraction:.0%}")
                        transfer = laptop.sync(deadline_s=600)
                    finally:
                        proxy.set_profile(PERFECT)
                        laptop.close()
                    if fraction is None:
                        whole = transfer.down
                        continue
                    assert whole is not None
                    cuts.append(
                        CutRow(
                            fraction=fraction,
                            before_cut=int(whole * fraction),
                            resent=transfer.down - whole,
                            seconds=transfer.seconds,
                        )
                    )
        finally:
            server.stop()
    return rows, cuts


# ------------------------------------------------------------------------------ the report


def _kb(n: int) -> str:
    return sync_bench._kb(n)


def _t(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def markdown(rows: list[ProfileRow], cuts: list[CutRow], *, command: str, seconds: float) -> str:
    lines = [
        SECTION,
        "",
        f"`{command}` — {machine()}; the run took {seconds:.0f} s.",
        "",
        "Teacher `kuznetsov.av` of the demo school, a real server process, the laptop syncing "
        "through scripts/badlink's proxy. Bytes: all the proxy carried, both ways, headers "
        "included; round trips: HTTP requests; failed: syncs that ended in a temporary failure "
        "and were retried. Profiles: "
        + "; ".join(
            f"{name} — {p.rtt_ms:.0f} ms RTT, {p.bandwidth_bps * 8 / 1000:.0f} kbit/s"
            + (f", {p.loss_probability:.0%} loss" if p.loss_probability else "")
            + (f", resets {p.reset_probability:.1%}/chunk" if p.reset_probability else "")
            + (f", stalls {p.stall_probability:.0%}/chunk" if p.stall_probability else "")
            for name, p in PROFILES.items()
            if name in {r.profile for r in rows}
        )
        + ".",
        "",
        "| Link | Transfer | Events | Bytes (up / down) | Round trips | Failed | Time | "
        "JSON bytes | JSON time | Bytes ÷ JSON |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        json_first = (
            (_kb(row.json_first.total), _t(row.json_first.seconds))
            if row.json_first
            else (f"{_kb(row.json_first_bytes)} (body)", "not run: too long")
        )
        json_first_total = row.json_first.total if row.json_first else row.json_first_bytes
        for label, transfer, events, json_cells, json_total in (
            ("first sync, whole year", row.first, row.events_first, json_first, json_first_total),
            (
                "one day as a delta",
                row.day,
                row.events_day,
                (_kb(row.json_day.total), _t(row.json_day.seconds)),
                row.json_day.total,
            ),
        ):
            lines.append(
                f"| {row.profile} | {label} | {events} | {_kb(transfer.total)} "
                f"({_kb(transfer.up)} / {_kb(transfer.down)}) | {transfer.requests} | "
                f"{transfer.failures} | {_t(transfer.seconds)} | {json_cells[0]} | "
                f"{json_cells[1]} | {transfer.total / json_total:.2f}× |"
            )
    if cuts:
        lines += [
            "",
            "Resumption: a first sync cut once, on a clean link.",
            "",
            "| Cut at | Received before the cut | Received again after it | Share | Time |",
            "|---|---|---|---|---|",
        ]
        for cut in cuts:
            share = cut.resent / cut.before_cut if cut.before_cut else 0.0
            lines.append(
                f"| {cut.fraction:.0%} | {_kb(cut.before_cut)} | {_kb(max(cut.resent, 0))} | "
                f"{share:.1%} | {_t(cut.seconds)} |"
            )
    days = [r.day.seconds for r in rows]
    if days:
        lines += ["", f"Day delta: median {_t(statistics.median(days))} over the links."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--profiles", default=",".join(PROFILES), help=f"comma-separated: {', '.join(PROFILES)}"
    )
    parser.add_argument("--quick", action="store_true", help="a tiny school, for a smoke test")
    parser.add_argument("--json-limit", type=float, default=120.0, help="seconds; see above")
    parser.add_argument("--output", type=Path, help="where to write the Markdown section")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.profiles.split(",") if n.strip()]
    unknown = [n for n in names if n not in PROFILES]
    if unknown:
        parser.error(f"unknown profiles: {', '.join(unknown)}")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    rows, cuts = run(
        profiles=names, quick=args.quick, json_limit=args.json_limit, progress=progress
    )
    command = "python -m scripts.bench.link_bench" + (" --quick" if args.quick else "")
    if args.profiles != ",".join(PROFILES):
        command += f' --profiles "{args.profiles}"'
    text = markdown(rows, cuts, command=command, seconds=time.perf_counter() - started)
    print(text)
    output = args.output or (None if args.quick else sync_bench.DOCS)
    if output is not None:
        sync_bench.write_section(text, output, SECTION)
        print(f"written to {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
