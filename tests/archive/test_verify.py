"""Tampering is caught, offline, with a Russian sentence naming what is wrong.

Each test damages a private copy of the archived year the way time, a careless copy or a
forger would, and runs the same check `journal-archive verify` runs."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from server.archive import keys
from server.archive.package import build_package
from server.archive.verify import describe, verify_folder
from server.archive.verify_cli import main as verify_main
from server.storage.db import connect
from tests.archive.conftest import PRINTED_AT, make_archive

SUMMARY_CSV = "data/summary/2026-2027-5/summary.csv"
EVENTS = "data/journals/2026-2027-5/math/events.json"
JOURNAL_PDF = "data/journals/2026-2027-6/math/journal.pdf"


def problems(archived) -> list[str]:
    report = verify_folder(archived.folder, [keys.load_public(archived.public_key)])
    return [*report.problems, *(p for package in report.packages for p in package.problems)]


def run_cli(archived, capsys) -> tuple[int, str]:
    code = verify_main(["verify", str(archived.folder), "--key", str(archived.public_key)])
    return code, capsys.readouterr().out


def test_intact_archive_passes(archived, capsys):
    code, out = run_cli(archived, capsys)
    assert code == 0
    assert "✓ sch-2026-2027 (№ 1 в цепочке): подпись верна" in out
    assert "Архив цел" in out


def test_flipped_byte_is_caught(archived, capsys):
    path = archived.bag / SUMMARY_CSV
    data = bytearray(path.read_bytes())
    data[40] ^= 0x01
    path.write_bytes(bytes(data))
    code, out = run_cli(archived, capsys)
    assert code == 1
    assert f"файл изменён: {SUMMARY_CSV} (контрольная сумма SHA-256 не совпадает)" in out
    assert "АРХИВ НЕ ЦЕЛ: найдено нарушений: 1." in out


def test_removed_file_is_caught(archived):
    (archived.bag / EVENTS).unlink()
    assert problems(archived) == [f"файл удалён: {EVENTS} (есть в описи пакета, нет на диске)"]


@pytest.mark.parametrize("where", ["data/journals/2026-2027-5/math/extra.json", "notes.txt"])
def test_added_file_is_caught(archived, where):
    (archived.bag / where).write_text("дописано потом", encoding="utf-8")
    assert problems(archived) == [f"лишний файл: {where} (его нет в описи пакета)"]


def test_resignature_with_another_key_is_caught(archived, tmp_path):
    # a forger edits a mark, recomputes every checksum and signs with a key of their own
    path = archived.bag / SUMMARY_CSV
    path.write_bytes(path.read_bytes().replace(b";2;", b";5;"))
    bag = archived.bag
    shutil.rmtree(tmp_path / "forged", ignore_errors=True)
    import bagit

    forged = bagit.Bag(str(bag))
    forged.save(manifests=True)
    other = keys.generate(tmp_path / "forger.pem", password=b"")
    signed = (bag / "tagmanifest-sha256.txt").read_bytes()
    (bag / "tagmanifest-sha256.txt.sig").write_text(
        keys.sign_file(other, "tagmanifest-sha256.txt", signed), encoding="utf-8"
    )
    school = keys.fingerprint(keys.load_public(archived.public_key))
    assert problems(archived) == [
        f"пакет подписан чужим ключом (отпечаток {keys.fingerprint(other.public_key())}), "
        f"а не ключом архива школы (отпечаток {school})"
    ]


def test_edited_tag_manifest_breaks_the_signature(archived):
    # bag-info.txt edited and its line in the tag manifest recomputed, signature left alone
    import hashlib

    info = archived.bag / "bag-info.txt"
    info.write_text(info.read_text(encoding="utf-8").replace("2027-06-20", "2027-06-10"))
    digest = hashlib.sha256(info.read_bytes()).hexdigest()
    tags = archived.bag / "tagmanifest-sha256.txt"
    lines = [
        f"{digest}  bag-info.txt" if line.endswith(" bag-info.txt") else line
        for line in tags.read_text(encoding="utf-8").splitlines()
    ]
    tags.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert problems(archived) == [
        "подпись не сходится: tagmanifest-sha256.txt изменён после подписания или подпись подделана"
    ]


def test_edited_bag_info_is_caught(archived):
    info = archived.bag / "bag-info.txt"
    info.write_text(info.read_text(encoding="utf-8").replace("2027-06-20", "2027-06-10"))
    assert problems(archived) == [
        "файл изменён: bag-info.txt (контрольная сумма SHA-256 не совпадает)"
    ]


def _next_package(archived, out_dir=None):
    conn = connect(archived.config.database)
    try:
        return build_package(
            conn,
            out_dir=out_dir or archived.folder,
            key=keys.load_private(archived.private_key, password=b""),
            login="records",
            now=PRINTED_AT,
        )
    finally:
        conn.close()


def test_chain_links_each_package_to_the_one_before(archived):
    second = _next_package(archived)
    assert second.sequence == 2 and second.name == "sch-2026-2027-r2"
    assert second.previous == archived.package.sha256
    assert problems(archived) == []


def test_replaced_year_signed_with_another_key_is_caught_twice(archived, tmp_path):
    second = _next_package(archived)
    replacement = make_archive(tmp_path / "again")  # the first year re-made under a new key
    shutil.rmtree(archived.bag)
    shutil.copytree(replacement.bag, archived.bag)
    found = problems(archived)
    other = keys.fingerprint(keys.load_public(replacement.public_key))
    assert f"пакет подписан чужим ключом (отпечаток {other})" in found[1]
    assert found[0] == (
        f"пакет sch-2026-2027 (№ 1) заменён: {second.name} ссылается на пакет с SHA-256 "
        f"{archived.package.sha256[:16]}…, а в папке лежит пакет с SHA-256 "
        f"{replacement.package.sha256[:16]}…"
    )


def test_replaced_year_signed_with_the_same_key_is_caught_by_the_chain(archived, tmp_path):
    second = _next_package(archived)
    remade = _next_package(archived, tmp_path / "elsewhere")  # same key, different content
    assert remade.sequence == 1
    shutil.rmtree(archived.bag)
    shutil.copytree(remade.path, archived.bag)
    assert problems(archived) == [
        f"пакет sch-2026-2027 (№ 1) заменён: {second.name} ссылается на пакет с SHA-256 "
        f"{archived.package.sha256[:16]}…, а в папке лежит пакет с SHA-256 "
        f"{remade.sha256[:16]}…"
    ]


def test_removed_year_in_the_chain_is_caught(archived):
    second = _next_package(archived)
    shutil.rmtree(archived.bag)
    assert problems(archived) == [
        f"нет пакета № 1 цепочки, на который ссылается {second.name}: год удалён из архива "
        "или лежит в другой папке"
    ]


def test_truncated_bag_is_caught(archived):
    # a copy to a USB stick cut short: one file half written, the last files never arrived
    pdf = archived.bag / JOURNAL_PDF
    whole = pdf.stat().st_size
    with open(pdf, "r+b") as f:
        f.truncate(whole // 2)
    (archived.bag / "tagmanifest-sha256.txt").unlink()
    (archived.bag / "tagmanifest-sha256.txt.sig").unlink()
    assert problems(archived) == [
        "нет служебного файла tagmanifest-sha256.txt: пакет неполон (усечён)",
        "нет файла подписи tagmanifest-sha256.txt.sig: пакет не подписан или неполон",
        f"файл усечён: {JOURNAL_PDF} — {whole // 2} байт вместо {whole}",
    ]


def test_bag_without_its_manifest_is_caught(archived):
    (archived.bag / "manifest-sha256.txt").unlink()
    found = problems(archived)
    assert "нет служебного файла manifest-sha256.txt: пакет неполон (усечён)" in found


def test_describe_lists_each_finding_under_its_package(archived):
    (archived.bag / EVENTS).unlink()
    lines = describe(verify_folder(archived.folder, [keys.load_public(archived.public_key)]))
    assert lines[0] == "✗ sch-2026-2027 (№ 1 в цепочке):"
    assert lines[1] == f"    — файл удалён: {EVENTS} (есть в описи пакета, нет на диске)"


def test_console_script_runs_without_server_code(archived):
    """`journal-archive verify` in a fresh interpreter: no database, no Litestar imported."""
    probe = (
        "import sys; from server.archive.verify_cli import main; code = main(sys.argv[1:]); "
        "bad = [m for m in ('litestar', 'sqlite3', 'server.storage', 'pycrdt') "
        "if m in sys.modules]; "
        "print('IMPORTED', bad); sys.exit(code)"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            probe,
            "verify",
            str(archived.folder),
            "--key",
            str(archived.public_key),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Архив цел" in result.stdout
    assert "IMPORTED []" in result.stdout


def test_unreadable_key_or_folder_is_a_usage_error(archived, tmp_path, capsys):
    bad = tmp_path / "not-a-key.pem"
    bad.write_text("это не ключ")
    assert verify_main(["verify", str(archived.folder), "--key", str(bad)]) == 2
    assert "не открытый ключ" in capsys.readouterr().err
    assert verify_main(["verify", str(tmp_path / "нет"), "--key", str(archived.public_key)]) == 2
    assert "Нет такой папки" in capsys.readouterr().err


def test_a_build_cut_short_is_named_and_does_not_join_the_chain(archived):
    # a crash (power cut) in the middle of a build leaves the hidden staging folder
    partial = archived.folder / ".sch-2026-2027-r2.partial"
    shutil.copytree(archived.bag, partial)
    (partial / "tagmanifest-sha256.txt.sig").unlink()
    assert problems(archived) == [
        "незавершённый пакет .sch-2026-2027-r2.partial: сборка была прервана; удалите папку и "
        "сформируйте пакет заново"
    ]
    shutil.rmtree(partial)
    (archived.folder / ".sch-2026-2027-r2.partial").mkdir()  # a new build clears it first
    second = _next_package(archived)
    assert second.sequence == 2 and second.previous == archived.package.sha256
    assert not (archived.folder / ".sch-2026-2027-r2.partial").exists()
    assert problems(archived) == []


def test_read_info_reads_what_bagit_reads(archived_once):
    """bag-info.txt read alone (the chain's head is looked for at every build) is the bag's
    info as bagit gives it, for this format and for format 1."""
    import bagit

    from server.archive.verify import read_info
    from tests.archive.test_old_format import FIXTURE

    for bag in (archived_once.bag, FIXTURE / "sch-2026-2027"):
        info = bagit.Bag(str(bag)).info
        assert read_info(bag) == {k: v[0] if isinstance(v, list) else v for k, v in info.items()}
        assert read_info(bag)["Zhurnal-Format"].startswith("zhurnal-archive/")
    assert read_info(archived_once.folder / "no-such-bag") == {}
