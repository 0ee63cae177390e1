"""The backup benchmark: a smoke-sized run in the normal suite, the full one with --bench."""

from __future__ import annotations

import pytest

from scripts.bench import backup_bench


def test_backup_bench_smoke(tmp_path, capsys):
    args = ["--pupils", "10", "--until", "2026-09-04", "--work", str(tmp_path), "--no-write"]
    code = backup_bench.main([*args, "--runs", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "| baseline: plain file copy (server stopped) |" in out
    assert "| `backup` while a writer commits |" in out and "transactions during the copy" in out
    assert "| `restore`: checksum, quick_check, backup API into a new file |" in out
    assert not (tmp_path / "p10" / "backup-bench").exists()  # the copies are removed


@pytest.mark.bench
def test_backup_bench_thousand_pupils(tmp_path):
    assert backup_bench.main(["--pupils", "1000", "--work", str(tmp_path)]) == 0
