"""A week of the diary on a phone over evening 3G: bytes on the wire and time to first render,
this branch beside main's page, measured in the same run.

    python -m scripts.bench.phone_bench [--runs 5] [--quick] [--main /work/main]
                                        [--school PATH] [--output PATH]

Both servers serve copies of one school (scripts/bench/web_bench.py: the demo school, a whole
year recorded, so the year's chart is full). This branch runs in-process under uvicorn; main
runs from its own checkout (`--main`, default /work/main) in a subprocess. Each sits behind
its own scripts/badlink proxy with the THREE_G_EVENING profile (~384 kbit/s, 300 ms RTT,
stalls); a headless Debian chromium at 390×844 logs in as the parent and opens the week.

Per run, in alternation so both share the machine's load: a visit with an empty cache (the
page, style sheet and script all travel) and, for this branch, a visit to the next week with
the style sheet and script already kept (as after the login page). Reported: the page's HTML
as sent (`transferSize`), the same HTML gzipped here at level 6, all bytes of the visit, and
first contentful paint (median of `--runs`). Figures are ratios to main's page in the same
run, with the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import uvicorn

from scripts.badlink.proxy import THREE_G_EVENING, FaultProxy
from scripts.bench.sync_bench import write_section
from scripts.bench.web_bench import PASSWORD, school_at
from server.app import create_app
from server.config import ServerConfig

SECTION = "## Phone: a week of the diary on evening 3G"
MAIN_SERVER = """
import sys, uvicorn, server
from server.app import create_app
from server.config import ServerConfig
assert server.__file__.startswith(sys.argv[3]), server.__file__
uvicorn.run(create_app(ServerConfig(database=sys.argv[1])), host="127.0.0.1",
            port=int(sys.argv[2]), log_level="warning")
"""
FCP = """() => new Promise(resolve => {
  const seen = performance.getEntriesByName('first-contentful-paint');
  if (seen.length) return resolve(seen[0].startTime);
  new PerformanceObserver(list => resolve(list.getEntries()[0].startTime))
    .observe({type: 'paint', buffered: true});
})"""
BYTES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const rest = performance.getEntriesByType('resource').reduce((s, r) => s + r.transferSize, 0);
  return {html: nav.transferSize, body: nav.decodedBodySize, all: nav.transferSize + rest};
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no server on port {port}")


def _log_in(context, url: str, login: str) -> None:
    """Through the context's request API: the session cookie is set, but no page is opened, so
    nothing (style sheet, script, worker) is cached before the measured visit."""
    form = context.request.get(f"{url}/login").text()
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    data = {"login": login, "password": PASSWORD, "csrf": token, "next": "/"}
    response = context.request.post(f"{url}/login", form=data, max_redirects=0)
    assert response.status == 303, response.status


def _visit(browser, url: str, login: str, path: str, warm_path: str | None) -> dict:
    """Log in through the slow link, then open the week with an empty cache (cold) and, when
    asked, the next week with what the first visit kept (warm)."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    _log_in(context, url, login)
    page = context.new_page()
    page.goto(url + path, wait_until="load")
    cold = {"fcp": page.evaluate(FCP), **page.evaluate(BYTES)}
    html = page.content().encode()
    result = {"cold": cold, "html_gzip": len(gzip.compress(html, 6, mtime=0))}
    if warm_path:
        page.goto(url + warm_path, wait_until="load")
        result["warm"] = {"fcp": page.evaluate(FCP), **page.evaluate(BYTES)}
    context.close()
    return result


def run(runs: int, quick: bool, main_dir: Path, school: Path | None) -> tuple[str, dict]:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="phone-bench-"))
    try:
        source = school or work / "school.sqlite"
        info = school_at(source, pupils=76, quick=quick)
        branch_db, main_db = work / "branch.sqlite", work / "main.sqlite"
        shutil.copy(source, branch_db)
        shutil.copy(source, main_db)
        until = dt.date.fromisoformat(info["until"])
        week = until - dt.timedelta(days=until.weekday() + 7)
        path = f"/diary/{info['child']}?week={week.isoformat()}"
        warm = f"/diary/{info['child']}?week={(week - dt.timedelta(days=7)).isoformat()}"

        branch_port, main_port = _free_port(), _free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(ServerConfig(database=branch_db)),
                host="127.0.0.1",
                port=branch_port,
                log_level="warning",
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        env = {**os.environ, "PYTHONPATH": str(main_dir)}
        main = subprocess.Popen(
            [sys.executable, "-c", MAIN_SERVER, str(main_db), str(main_port), str(main_dir)],
            cwd=main_dir,
            env=env,
        )
        try:
            deadline = time.monotonic() + 120
            _wait_up(branch_port, deadline)
            _wait_up(main_port, deadline)
            results: dict[str, list[dict]] = {"main": [], "branch": []}
            with (
                FaultProxy(branch_port, THREE_G_EVENING, seed=1) as branch_link,
                FaultProxy(main_port, THREE_G_EVENING, seed=1) as main_link,
                sync_playwright() as p,
            ):
                browser = p.chromium.launch(
                    executable_path=shutil.which("chromium"), headless=True, args=["--no-sandbox"]
                )
                for _ in range(runs):
                    results["main"].append(
                        _visit(browser, main_link.url, info["parent"], path, None)
                    )
                    results["branch"].append(
                        _visit(browser, branch_link.url, info["parent"], path, warm)
                    )
                browser.close()
        finally:
            main.terminate()
            main.wait(timeout=30)
            server.should_exit = True
            thread.join(timeout=30)
        return _table(results, runs, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _median(rows: list[dict], *keys: str) -> float:
    values = []
    for row in rows:
        value = row
        for key in keys:
            value = value[key]
        values.append(value)
    return statistics.median(values)


def _table(results: dict[str, list[dict]], runs: int, path: str) -> tuple[str, dict]:
    main, branch = results["main"], results["branch"]
    figures = {
        "main": {
            "html": _median(main, "cold", "html"),
            "html_body": _median(main, "cold", "body"),
            "html_gzip": _median(main, "html_gzip"),
            "all": _median(main, "cold", "all"),
            "fcp": _median(main, "cold", "fcp"),
        },
        "branch": {
            "html": _median(branch, "cold", "html"),
            "html_body": _median(branch, "cold", "body"),
            "html_gzip": _median(branch, "html_gzip"),
            "all": _median(branch, "cold", "all"),
            "fcp": _median(branch, "cold", "fcp"),
            "warm_all": _median(branch, "warm", "all"),
            "warm_fcp": _median(branch, "warm", "fcp"),
        },
    }
    base = figures["main"]
    load = Path("/proc/loadavg").read_text().split()[:3]

    def row(label: str, value: float, baseline: float, unit: str) -> str:
        shown = f"{value / 1024:.1f} KB" if unit == "KB" else f"{value:.0f} ms"
        return f"| {label} | {shown} | {value / baseline:.2f} × |"

    b = figures["branch"]
    lines = [
        SECTION,
        "",
        f"`python -m scripts.bench.phone_bench --runs {runs}` — {dt.date.today():%d.%m.%Y}, "
        f"load average {' '.join(load)} (2 cores shared with other work: a busy machine). "
        f"Page: `{path}` (demo school, a whole year recorded), chromium at 390×844 behind the "
        "THREE_G_EVENING proxy profile; medians of the runs. Ratios are to main's page "
        "measured in the same run.",
        "",
        "| what | value | × main |",
        "|---|---:|---:|",
        row("main: HTML as sent (not compressed)", base["html"], base["html"], "KB"),
        row("main: the same HTML, gzip -6", base["html_gzip"], base["html"], "KB"),
        row("main: whole visit, bytes", base["all"], base["all"], "KB"),
        row("main: first contentful paint", base["fcp"], base["fcp"], "ms"),
        row("branch: HTML as sent (gzip)", b["html"], base["html"], "KB"),
        row("branch: HTML unpacked", b["html_body"], base["html_body"], "KB"),
        row("branch: whole visit, empty cache (page, CSS, script)", b["all"], base["all"], "KB"),
        row("branch: first contentful paint, empty cache", b["fcp"], base["fcp"], "ms"),
        row("branch: next week, style sheet kept: bytes", b["warm_all"], base["all"], "KB"),
        row(
            "branch: next week, style sheet kept: first contentful paint",
            b["warm_fcp"],
            base["fcp"],
            "ms",
        ),
        "",
        "With an empty cache the style sheet, now a file of its own, costs one more round "
        "trip (300 ms on this profile) before the first paint; main inlined it in every page. "
        "A parent meets that case only when opening a saved diary address with an empty cache: "
        "the login page before the diary already brings the style sheet, so the usual first "
        'view is the "style sheet kept" row. The first visit also installs the service worker, '
        "which fetches the page once more to keep it (after the first paint, not counted "
        "above).",
        "",
    ]
    return "\n".join(lines), figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="two weeks of lessons, not a year")
    parser.add_argument("--main", type=Path, default=Path("/work/main"), help="main's checkout")
    parser.add_argument("--school", type=Path, help="keep/reuse the built school in this file")
    parser.add_argument("--output", type=Path, help="write the section into this Markdown file")
    args = parser.parse_args(argv)
    table, _ = run(args.runs, args.quick, args.main, args.school)
    print(table)
    if args.output:
        write_section(table, args.output, SECTION)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
