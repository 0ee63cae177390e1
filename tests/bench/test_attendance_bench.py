"""The attendance-summary benchmark at smoke size: it runs end to end, and the summary as
first written and the one now give the same rows (the bench asserts it)."""

from __future__ import annotations

import pytest

from scripts.bench.attendance_bench import run


@pytest.mark.slow
def test_attendance_bench_smoke_compares_before_and_after():
    table, figures = run(pupils=76, runs=2, quick=True)
    assert "| whole year: report now (after) |" in table
    assert figures["rows"] > 0
    assert set(figures["ratios"]) == {"whole year", "1st quarter"}
