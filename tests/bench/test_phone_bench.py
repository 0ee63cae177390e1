"""The phone benchmark at smoke size: it runs end to end through the 3G proxy and chromium
(the repository itself stands in for main's checkout)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scripts.bench.phone_bench import run


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium missing")
def test_phone_bench_smoke_prints_bytes_and_first_paint_beside_main():
    table, figures = run(runs=1, quick=True, main_dir=Path(__file__).parents[2], school=None)
    assert "| branch: first contentful paint, empty cache |" in table and "load average" in table
    assert figures["branch"]["html"] < figures["branch"]["html_body"]  # sent gzipped
    assert figures["branch"]["fcp"] > 0 and figures["main"]["fcp"] > 0
