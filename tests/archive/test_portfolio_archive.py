"""The year's portfolios go into the package: entries, printed portfolio, scans; all verify."""

from __future__ import annotations

import json

import pikepdf
from pypdf import PdfReader

from server.archive import keys
from server.archive.closing import close_year
from server.archive.package import build_package
from server.archive.readback import compare, open_package
from server.archive.verify import verify_folder
from server.storage.db import connect
from tests.archive.conftest import CLOSED_ON, PRINTED_AT
from tests.factories import YEAR
from tests.server.web.portfolio_kit import (
    CERTIFICATE,
    DIPLOMA,
    UNFINISHED,
    add_achievements,
    sha,
)


def _archive_with_portfolio(school, tmp_path):
    conn = connect(school.database)
    try:
        add_achievements(conn)
        close_year(conn, login="records", year_id=YEAR, on=CLOSED_ON)
        key = keys.generate(tmp_path / "keys" / "archive-key.pem", password=b"")
        package = build_package(
            conn, out_dir=tmp_path / "archive", key=key, login="records", now=PRINTED_AT
        )
    finally:
        conn.close()
    return package, key


def test_portfolio_entries_and_scans_are_in_the_package_and_verify(school, tmp_path):
    package, key = _archive_with_portfolio(school, tmp_path)
    data = package.path / "data" / "portfolio"
    assert sorted(p.name for p in data.iterdir()) == ["s-1", "s-2", "s-3", "s-5"]
    first = json.loads((data / "s-1" / "portfolio.json").read_bytes())
    assert first["student"] == "Алексеев Артём" and first["year_id"] == YEAR
    assert {a["id"] for a in first["achievements"]} == {"a-1", "a-2"}
    assert (data / "s-1" / "documents" / f"{sha(DIPLOMA)}.pdf").read_bytes() == DIPLOMA
    assert (data / "s-2" / "documents" / f"{sha(CERTIFICATE)}.png").read_bytes() == CERTIFICATE
    unfinished = json.loads((data / "s-3" / "portfolio.json").read_bytes())
    assert unfinished["documents_missing"] == [sha(UNFINISHED)]  # said, not silently dropped
    assert not (data / "s-3" / "documents").exists()
    text = "\n".join(p.extract_text() for p in PdfReader(data / "s-1" / "portfolio.pdf").pages)
    assert "Портфолио достижений обучающегося" in text
    assert "Региональный этап ВсОШ по математике" in text
    with pikepdf.open(data / "s-1" / "portfolio.pdf") as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
    listing = json.loads((package.path / "data" / "contents.json").read_bytes())["files"]
    categories = {f["path"]: f["category"] for f in listing}
    assert categories[f"portfolio/s-1/documents/{sha(DIPLOMA)}.pdf"] == "personal_files"
    report = verify_folder(tmp_path / "archive", [key.public_key()])
    assert report.ok, report
    archived = open_package(package.path)  # the printed portfolios come out the same
    try:
        result = compare(archived)
    finally:
        archived.close()
    assert result.ok, result.different
    assert {f"portfolio/s-{i}/portfolio.pdf" for i in (1, 2, 3, 5)} <= set(result.same)


def test_a_changed_scan_shows(school, tmp_path):
    package, key = _archive_with_portfolio(school, tmp_path)
    scan = package.path / "data" / "portfolio" / "s-2" / "documents" / f"{sha(CERTIFICATE)}.png"
    scan.write_bytes(CERTIFICATE.replace(b"s-2", b"s-9"))
    report = verify_folder(tmp_path / "archive", [key.public_key()])
    assert not report.ok
    assert report.packages[0].problems == [
        f"файл изменён: data/portfolio/s-2/documents/{sha(CERTIFICATE)}.png "
        "(контрольная сумма SHA-256 не совпадает)"
    ]
