"""The web benchmark at smoke size: it runs end to end and the diary page stays small."""

from __future__ import annotations

import pytest

from scripts.bench.web_bench import run


@pytest.mark.slow
def test_web_bench_smoke_runs_every_report_and_prints_the_table():
    table, figures = run(pupils=76, runs=3, quick=True, report_runs=1)
    assert "| diary (one week, period marks, year chart) |" in table
    assert set(figures["reports"]) >= {"results", "summary", "forecast", "corrections"}
    assert figures["diary_size"] < 60_000  # a weak phone on a slow link
