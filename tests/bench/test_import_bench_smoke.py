"""The school-lists import benchmark at a smoke size, so it cannot rot: both file sets import,
the second pass changes nothing, and the table has a row per run."""

from __future__ import annotations

import pytest

from scripts.bench.import_bench import bench, table


@pytest.mark.slow  # a benchmark's smoke run: in CI, not in the fast set
def test_import_bench_runs_at_a_smoke_size():
    rows = bench(pupils=30, repeat=1)
    assert [r.what for r in rows] == [
        "CSV: first import",
        "CSV: the same files again (no change)",
        "XLSX: first import",
        "XLSX: the same files again (no change)",
    ]
    assert all(r.import_s > 0 and r.baseline_peak > 0 for r in rows)
    assert table(rows).count("\n") == len(rows) + 1


def test_next_year_measure_runs_at_a_smoke_size(tmp_path):
    from scripts.bench.import_bench import next_year, next_year_table

    result = next_year(pupils=30, folder=tmp_path)
    assert result.open_s > 0
    assert result.first_sync["complete"] and result.after["complete"]
    assert "Open the next year (30 pupils" in next_year_table(result)
