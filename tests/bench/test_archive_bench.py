"""The archive benchmark: a smoke-sized run in the normal suite, the full one with --bench."""

from __future__ import annotations

import datetime as dt

import pytest

from scripts.bench import archive_bench


@pytest.mark.slow  # a benchmark's smoke run: in CI, not in the fast set
def test_archive_bench_smoke(tmp_path, capsys):
    """Two weeks of the demo school: the fixture, the child process, the table, all in order."""
    code = archive_bench.main(
        ["--pupils", "10", "--until", "2026-09-11", "--work", str(tmp_path), "--no-write"]
    )
    out = capsys.readouterr().out
    assert code == 0  # verified and read back identical
    assert "| archive package, total |" in out
    assert "| peak memory of the build (VmHWM) |" in out
    assert "| peak memory of the process tree, no PDF printed ahead / cached |" in out
    assert "| verify (offline, both packages, every checksum) |" in out and "| ok |" in out
    assert "| build time, journal PDFs printed ahead (cached) |" in out
    assert " 0 different |" in out


@pytest.mark.bench
def test_archive_bench_thousand_pupils(tmp_path):
    assert archive_bench.main(["--pupils", "1000", "--work", str(tmp_path)]) == 0


def test_copies_keep_the_demo_schools_shape(tmp_path):
    figures = archive_bench.build_school(tmp_path / "s.sqlite", 100, dt.date(2026, 9, 4))
    assert figures["pupils"] == 152 and figures["journals"] == 262  # two copies of 76 / 131
