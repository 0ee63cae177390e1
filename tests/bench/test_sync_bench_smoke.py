"""The sync benchmark's quick mode, in the normal suite so the benchmark cannot rot."""

from __future__ import annotations

import pytest

from scripts.bench.sync_bench import markdown, run


@pytest.mark.slow  # a benchmark's smoke run: in CI, not in the fast set
def test_quick_benchmark_measures_every_scenario():
    rows = run(quick=True)
    by = {row.key: row for row in rows}
    for key in (
        "first_sync",
        "day_delta_open",
        "day_delta_entry",
        "day_delta",
        "day_delta_cold",
        "day_delta_idle",
        "server_day",
        "server_journal",
        *(f"{k}_x{g}" for g in (3, 6) for k in ("first_sync", "day_delta")),
        *(f"day_delta_x{g}_{k}" for g in (3, 6) for k in ("open", "entry", "cold", "idle")),
    ):
        assert key in by, key
        assert by[key].seconds > 0, key
    for key in ("first_sync", "day_delta", "first_sync_x3", "day_delta_x6"):
        row = by[key]
        assert row.requests and row.requests >= 1, key
        assert row.sent and row.received, key
        assert row.json_bytes and row.json_zlib_bytes and row.json_seconds, key
    assert by["day_delta"].wire_bytes < by["first_sync"].wire_bytes
    for g in (3, 6):
        assert by[f"day_delta_x{g}"].wire_bytes < by[f"first_sync_x{g}"].wire_bytes
        # the same day whatever the journal's size: the delta's bytes do not grow with it
        assert by["day_delta"].events == by[f"day_delta_x{g}"].events > 0
        assert by[f"day_delta_x{g}"].wire_bytes < 1.2 * by["day_delta"].wire_bytes
    assert by["server_day"].events >= 1_000 and by["server_day"].rate > 0
    text = markdown(rows, command="smoke", seconds=1.0)
    assert text.startswith("## Sync core") and "| (a) first sync" in text
