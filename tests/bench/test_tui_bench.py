"""The Textual app's benchmark: a smoke-sized run in the normal suite, the full one with --bench."""

import pytest

from scripts.bench import tui_bench


@pytest.mark.slow  # a benchmark's smoke run: in CI, not in the fast set
def test_tui_bench_smoke_runs_and_commits_every_keypress(capsys):
    argv = ["--students", "6", "--per-week", "1", "--entries", "12", "--plain"]
    result = tui_bench.main(argv)
    assert result["committed"] == 12  # the bench itself exits if a keypress was not committed
    assert result["events"] > 6 * 30  # a year of lessons with a column of attendance each
    table = capsys.readouterr().out
    assert "keypress" in table and "RSS" in table
    assert "encrypted ÷ plain: key → committed" in table and "plain: " in table


@pytest.mark.bench
def test_tui_bench_full_year_of_a_30_pupil_class():
    result = tui_bench.main([])
    assert result["committed"] == 300
