"""Journal PDFs printed ahead of the package: kept by content, so a correction prints anew."""

from __future__ import annotations

import datetime as dt
import json

from pypdf import PdfReader

from server.archive import keys, pdf_cache, printed
from server.archive.closing import close_year
from server.archive.package import build_package
from server.archive.readback import compare, open_package
from server.printing.pdf import compile_job
from server.printing.pool import render_all
from server.seeding import load_journals
from server.storage import directory as directory_storage
from server.storage.db import connect
from tests.archive.conftest import CLOSED_ON, PRINTED_AT
from tests.factories import CLASS_6, MATH_5, MATH_6, RUSSIAN_5, YEAR
from tests.reports_school import _Author

AHEAD = dt.datetime(2027, 5, 31, 18, 0, tzinfo=dt.UTC)  # the last quarter closed


def _grid_line(pdf: bytes, surname: str) -> str:
    import io

    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    return next(line for line in text.splitlines() if surname in line)


def _cached_rows(conn) -> dict[str, tuple[str, bytes]]:
    rows = conn.execute("SELECT journal_id, printed_at, pdf FROM archive_pdf_cache")
    return {r["journal_id"]: (r["printed_at"], bytes(r["pdf"])) for r in rows}


def test_a_correction_after_caching_gives_the_corrected_pdf(school, tmp_path):
    conn = connect(school.database)
    try:
        assert pdf_cache.prerender(conn, YEAR, now=AHEAD) == 3
        assert pdf_cache.prerender(conn, YEAR, now=AHEAD) == 0  # nothing changed since
        before = _cached_rows(conn)
        assert _grid_line(before[MATH_6][1], "Ершова Ж.") == "2 Ершова Ж. 4"
        # the teacher corrects a mark of class 6 after the journal was printed ahead
        (given,) = conn.execute(
            "SELECT event_id FROM marks WHERE journal_id = ? AND student_id = 's-6'",
            (MATH_6,),
        ).fetchone()
        teacher = _Author("t-math", "d-math-late").at(dt.date(2026, 9, 9))
        fixed = teacher.mark("M1", "s-6", 3, supersedes=(given,), reason="Ошибка при выставлении")
        directory = directory_storage.load_full(conn, YEAR)
        assert load_journals(conn, school, directory, {MATH_6: [fixed]}) == 0
        close_year(conn, login="records", year_id=YEAR, on=CLOSED_ON)
        key = keys.generate(tmp_path / "keys" / "archive-key.pem", password=b"")
        package = build_package(
            conn, out_dir=tmp_path / "archive", key=key, login="records", now=PRINTED_AT
        )
        after = _cached_rows(conn)
    finally:
        conn.close()
    data = package.path / "data"
    listing = {f["path"]: f for f in json.loads((data / "contents.json").read_bytes())["files"]}
    corrected = (data / "journals" / CLASS_6 / "math" / "journal.pdf").read_bytes()
    assert _grid_line(corrected, "Ершова Ж.") == "2 Ершова Ж. 3"
    assert corrected != before[MATH_6][1]
    assert listing[f"journals/{CLASS_6}/math/journal.pdf"]["printed_at"] == PRINTED_AT.isoformat()
    assert after[MATH_6] == (PRINTED_AT.isoformat(), corrected)  # the cache follows the content
    for journal_id, subject in ((MATH_5, "math"), (RUSSIAN_5, "russian")):  # unchanged: cached
        path = f"journals/{journal_id.split('~')[1]}/{subject}/journal.pdf"
        assert (data / path).read_bytes() == before[journal_id][1]
        assert listing[path]["printed_at"] == AHEAD.isoformat()
    archived = open_package(package.path)  # printed again with each journal's own date
    try:
        result = compare(archived)
    finally:
        archived.close()
    assert result.ok, result.different
    assert len(result.same) == 3 + 2 * 3 + 6 * 2


def test_the_process_pool_prints_what_one_process_prints(school):
    conn = connect(school.database)
    try:
        directory = directory_storage.load_full(conn, YEAR)
        jobs = []
        for journal in directory.journals:
            _, state = pdf_cache.journal_state(conn, journal.id)
            jobs.append((journal.id, printed.journal_job(directory, journal, state, PRINTED_AT)))
    finally:
        conn.close()
    pooled = dict(render_all(iter(jobs), workers=2))  # spawned workers, lazily fed
    assert pooled == {journal_id: compile_job(job) for journal_id, job in jobs}
    assert len(pooled) == 3
