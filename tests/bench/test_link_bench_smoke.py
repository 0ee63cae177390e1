"""The bad-link benchmark's quick mode on the LAN profile, so the benchmark cannot rot."""

from __future__ import annotations

import pytest

from scripts.bench.link_bench import CUTS, markdown, run

pytestmark = pytest.mark.slow


def test_quick_link_benchmark_measures_syncs_baselines_and_cuts():
    rows, cuts = run(profiles=["LAN"], quick=True)
    (row,) = rows
    assert row.profile == "LAN"
    for transfer in (row.first, row.day, row.json_day):
        assert transfer.up > 0 and transfer.down > 0 and transfer.requests >= 1
    assert row.json_first is not None and row.json_first.total > row.first.total
    assert row.day.total < row.first.total
    assert [c.fraction for c in cuts] == list(CUTS)
    for cut in cuts:  # resumed, not fetched again
        assert cut.resent < 0.1 * cut.before_cut + 1_000, cut
    text = markdown(rows, cuts, command="smoke", seconds=1.0)
    assert "| LAN | first sync, whole year |" in text and "| 50% |" in text
