"""The records officer's June, from the command line: close, key, build, verify, read back,
and years later the retention act and the destruction it records."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from server.cli import main
from server.storage.db import connect
from tests.factories import MATH_5


def run(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_close_build_verify_and_read_back(school, tmp_path, capsys):
    db = school.database
    archive = tmp_path / "archive"
    key = tmp_path / "keys" / "school.pem"

    code, _, err = run(
        capsys, "--db", db, "archive", "build", "--by", "records", "--out", archive, "--key", key
    )
    assert code == 2 and "Нет ключа архива" in err

    code, out, _ = run(capsys, "--db", db, "archive-key", "init", "--key", key)
    assert code == 0 and "Отпечаток:" in out and key.with_name("school.pem.pub").is_file()
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    code, _, err = run(capsys, "--db", db, "archive-key", "init", "--key", key)
    assert code == 2 and "уже есть" in err  # never overwritten

    code, _, err = run(
        capsys, "--db", db, "archive", "build", "--by", "records", "--out", archive, "--key", key
    )
    assert code == 2 and "не закрыт" in err

    code, _, err = run(capsys, "--db", db, "close-year", "--by", "math", "--date", "20.06.2027")
    assert code == 2 and "Недостаточно прав" in err
    code, out, _ = run(capsys, "--db", db, "close-year", "--by", "records", "--date", "20.06.2027")
    assert code == 0 and "закрыт 20.06.2027" in out

    code, out, _ = run(
        capsys, "--db", db, "grant-correction", MATH_5, "--teacher", "t-math",
        "--reason", "записка № 3", "--by", "deputy", "--days", "10",
    )  # fmt: skip
    assert code == 0 and "Разрешение № 1" in out

    code, out, _ = run(
        capsys, "--db", db, "archive", "build", "--by", "records", "--out", archive, "--key", key
    )
    assert code == 0, out
    assert "] 12/12" in out  # the progress bar reached the end: 3 journals, 2 classes, 6 pupils
    assert "№ 1 в цепочке" in out

    # anyone, anywhere, with only the public key: the console script in a fresh process
    verify = Path(sys.executable).with_name("journal-archive")
    result = subprocess.run(
        [str(verify), "verify", str(archive), "--key", str(key.with_name("school.pem.pub"))],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Архив цел: пакетов проверено 1." in result.stdout

    code, out, _ = run(capsys, "--db", db, "archive", "readback", archive / "sch-2026-2027")
    assert code == 0 and "совпало файлов 21, отличается 0" in out


def test_retention_from_the_command_line(archived, tmp_path, capsys):
    db = archived.config.database
    folder = archived.folder
    code, out, _ = run(capsys, "--db", db, "retention", "show")
    assert code == 0 and "journals" in out and "25 лет" in out
    code, out, _ = run(
        capsys, "--db", db, "retention", "due", "--archive", folder, "--on", "01.01.2033"
    )
    assert code == 0 and "Истёк срок хранения: 3." in out
    act = tmp_path / "act-1.pdf"
    code, out, _ = run(
        capsys, "--db", db, "retention", "act", "--archive", folder, "--on", "01.01.2033",
        "--number", "1", "--by", "records", "--pdf", act,
    )  # fmt: skip
    assert code == 0 and act.read_bytes().startswith(b"%PDF")
    code, out, _ = run(
        capsys, "--db", db, "retention", "destroy", "--archive", folder, "--number", "1",
        "--by", "records", "--key", archived.private_key,
    )  # fmt: skip
    assert code == 0 and "Акт № 1 исполнен" in out
    conn = connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM destruction_log").fetchone()[0] == 3
    finally:
        conn.close()
    code, out, _ = run(
        capsys, "--db", db, "retention", "due", "--archive", folder, "--on", "01.01.2033"
    )
    assert "Истёк срок хранения: 0." in out


def test_prerender_prints_changed_journals_only(school, capsys):
    db = school.database
    code, out, _ = run(capsys, "--db", db, "archive", "prerender", "--class", "2026-2027-5")
    assert code == 0 and "Напечатано заранее журналов: 2" in out
    code, out, _ = run(capsys, "--db", db, "archive", "prerender")
    assert code == 0 and "Напечатано заранее журналов: 1" in out  # class 6 only: 5 is current
    conn = connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM archive_pdf_cache").fetchone()[0] == 3
    finally:
        conn.close()


def test_prerender_names_the_school_when_the_server_holds_several(school, capsys):
    db = school.database
    code, _, _ = run(
        capsys, "--db", db, "add-school", "sch-2", "--name", "Школа № 2", "--year", "2026"
    )
    assert code == 0
    code, _, err = run(capsys, "--db", db, "archive", "prerender")
    assert code == 2 and "Укажите школу (--school)" in err
    code, _, err = run(capsys, "--db", db, "archive", "prerender", "--school", "nope")
    assert code == 2 and "Школа «nope» не найдена" in err
    code, out, _ = run(capsys, "--db", db, "archive", "prerender", "--school", "sch")
    assert code == 0 and "Напечатано заранее журналов: 3" in out
    code, out, _ = run(capsys, "--db", db, "archive", "prerender", "--school", "sch-2")
    assert code == 0 and "Напечатано заранее журналов: 0" in out
