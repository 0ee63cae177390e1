"""A package of the first format (zhurnal-archive/1), made by the release before PDF/A and the
compact events: it must still verify and read back with today's code.

The fixture under fixtures/format-1/ was built by that release (`make_archive` of
tests/archive/conftest.py) and is never regenerated: it stands for the packages schools keep."""

from __future__ import annotations

import shutil
from pathlib import Path

from server.archive import keys
from server.archive.readback import compare, open_package
from server.archive.verify import read_info, verify_folder

FIXTURE = Path(__file__).parent / "fixtures" / "format-1"
BAG = FIXTURE / "sch-2026-2027"


def test_fixture_is_of_the_first_format():
    assert read_info(BAG)["Zhurnal-Format"] == "zhurnal-archive/1"


def test_first_format_package_still_verifies(tmp_path: Path):
    shutil.copytree(BAG, tmp_path / BAG.name)
    public = keys.load_public(FIXTURE / "archive-key.pem.pub")
    report = verify_folder(tmp_path, [public])
    assert report.ok, report
    assert report.packages[0].files_checked == 34


def test_first_format_package_still_verifies_and_tampering_still_shows(tmp_path: Path):
    shutil.copytree(BAG, tmp_path / BAG.name)
    events = tmp_path / BAG.name / "data" / "journals" / "2026-2027-5" / "math" / "events.json"
    events.write_bytes(events.read_bytes().replace(b"current", b"superseded", 1))
    report = verify_folder(tmp_path, [keys.load_public(FIXTURE / "archive-key.pem.pub")])
    assert not report.ok
    assert any("events.json" in p for p in report.packages[0].problems)


def test_first_format_package_reads_back_and_prints_the_same():
    archived = open_package(BAG)
    try:
        result = compare(archived)
        assert len(archived.documents) == 3
    finally:
        archived.close()
    assert result.ok, result.different
    assert len(result.same) == 3 + 2 * 3 + 6 * 2
