"""Login time for an existing login and a missing one: the difference must be within noise.

    python -m scripts.bench.login_bench [--runs 50]

Through the real app in-process (Litestar's TestClient), on a throwaway database with one
account: `--runs` wrong-password logins for the existing account and as many for a login that
does not exist, interleaved so both see the same machine load. The limits on failures are
raised for the run (they would answer 429 after 5), so every attempt takes the full path.
Baseline in the same run: one Argon2id verification alone (what every attempt must cost), and
GET /api/v1/health (the stack without it). Prints medians, the spread, ratios and the load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from litestar.testing import TestClient

from server.app import create_app
from server.auth import passwords
from server.auth.service import create_account
from server.config import ServerConfig
from server.storage.db import connect, create_schema
from shared.model import Role


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _iqr_ms(samples: list[float]) -> float:
    q = statistics.quantiles(samples, n=4)
    return (q[2] - q[0]) * 1000


def run(runs: int) -> dict[str, list[float]]:
    folder = Path(tempfile.mkdtemp(prefix="login-bench-"))
    config = ServerConfig(
        database=folder / "bench.sqlite", login_max_failures=10**9, login_address_failures=10**9
    )
    conn = connect(config.database)
    create_schema(conn)
    create_account(
        conn, login="director", password="correct-horse", role=Role.DIRECTOR, person_id="t-director"
    )
    conn.close()
    stored = passwords.hash_password("correct-horse")
    times: dict[str, list[float]] = {"argon2": [], "health": [], "existing": [], "missing": []}
    with TestClient(create_app(config), base_url="http://bench.local") as client:
        for _ in range(3):  # warm up
            client.post("/api/v1/auth/login", json={"login": "x", "password": "y"})
        for n in range(runs):
            started = time.perf_counter()
            passwords.verify_password(stored, "wrong-password")
            times["argon2"].append(time.perf_counter() - started)
            started = time.perf_counter()
            client.get("/api/v1/health")
            times["health"].append(time.perf_counter() - started)
            order = ("existing", "missing") if n % 2 == 0 else ("missing", "existing")
            for kind in order:
                login = "director" if kind == "existing" else f"nobody-{n}"
                started = time.perf_counter()
                response = client.post(
                    "/api/v1/auth/login", json={"login": login, "password": "wrong-password"}
                )
                times[kind].append(time.perf_counter() - started)
                assert response.status_code == 401, response.text
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    times = run(args.runs)
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    base = _median_ms(times["argon2"])
    print(
        f"login timing, {args.runs} of each, interleaved; cores: {os.cpu_count()}; "
        f"load average before {' '.join(load_before)}, after {' '.join(load_after)}"
    )
    print(f"{'what':<34}{'median ms':>10}{'IQR ms':>9}{'x Argon2':>10}")
    labels = {
        "argon2": "one Argon2id verification (base)",
        "health": "GET /api/v1/health",
        "existing": "login, existing, wrong password",
        "missing": "login, missing login",
    }
    for kind, label in labels.items():
        median = _median_ms(times[kind])
        print(f"{label:<34}{median:>10.1f}{_iqr_ms(times[kind]):>9.1f}{median / base:>10.2f}")
    existing, missing = _median_ms(times["existing"]), _median_ms(times["missing"])
    noise = max(_iqr_ms(times["existing"]), _iqr_ms(times["missing"]))
    verdict = "within" if abs(missing - existing) <= noise else "OUTSIDE"
    print(
        f"missing / existing: {missing / existing:.3f}; difference {missing - existing:+.1f} ms, "
        f"IQR (noise) {noise:.1f} ms: {verdict} noise"
    )


if __name__ == "__main__":
    main()
