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
from tests.reports_school import _Author, database_copy

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
    assert (
        f'"id":"{fixed.id}"' in (data / "journals" / CLASS_6 / "math" / "events.json").read_text()
    )
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


def test_a_package_built_by_worker_processes_is_the_one_built_in_process(school_template, tmp_path):
    """Byte for byte: the journals read, folded and printed by spawned workers, their files
    written by them, give the same bag as one process doing it all (as before the pool)."""
    bags = {}
    key = keys.generate(tmp_path / "keys" / "archive-key.pem", password=b"")
    for workers in (1, 2):
        config = database_copy(school_template, tmp_path / f"w{workers}" / "school.sqlite")
        conn = connect(config.database)
        try:
            close_year(conn, login="records", year_id=YEAR, on=CLOSED_ON)
            package = build_package(
                conn,
                out_dir=tmp_path / f"w{workers}" / "archive",
                key=key,
                login="records",
                now=PRINTED_AT,
                workers=workers,
            )
            assert len(_cached_rows(conn)) == 3  # the parent kept what the workers printed
        finally:
            conn.close()
        bags[workers] = _bag_files(package.path)
    assert len(bags[2]) > 20
    assert bags[2] == bags[1]


def _bag_files(bag) -> dict[str, object]:
    """Every file of the bag by path. An XLSX is a zip that stamps itself with the time it
    was written (so two builds never match byte for byte): its members but that stamp are
    compared, and its size and SHA-256 left out of the listings; the tag manifest and signature
    follow from those."""
    import io
    import zipfile

    files: dict[str, object] = {}
    for path in sorted(p for p in bag.rglob("*") if p.is_file()):
        name, data = str(path.relative_to(bag)), path.read_bytes()
        if name.endswith(".xlsx"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                members = (i for i in z.infolist() if i.filename != "docProps/core.xml")
                files[name] = {i.filename: z.read(i) for i in members}  # core: the time
        elif name == "data/contents.json":
            listing = json.loads(data)
            for entry in listing["files"]:
                if entry["path"].endswith(".xlsx"):
                    del entry["sha256"], entry["bytes"]
            files[name] = listing
        elif name == "bag-info.txt":  # all but the payload's size (Payload-Oxum)
            files[name] = [x for x in data.decode().splitlines() if "Oxum" not in x]
        elif name.startswith("tagmanifest"):
            continue
        elif name == "manifest-sha256.txt":
            lines = data.decode().splitlines()
            files[name] = [line for line in lines if not line.endswith((".xlsx", "contents.json"))]
        else:
            files[name] = data
    return files


def test_an_unchanged_journal_is_copied_from_the_cache_not_read_again(
    school, tmp_path, monkeypatch
):
    """Printed ahead, then the year closed: the package copies each journal's files kept by
    the printing ahead (its state vector unchanged) and is the one a build reading every
    journal makes."""
    conn = connect(school.database)
    try:
        assert pdf_cache.prerender(conn, YEAR, now=AHEAD) == 3
        close_year(conn, login="records", year_id=YEAR, on=CLOSED_ON)
        key = keys.generate(tmp_path / "keys" / "archive-key.pem", password=b"")

        def not_again(conn, journal_id):
            raise AssertionError(f"{journal_id} read again")

        with monkeypatch.context() as patched:
            patched.setattr(pdf_cache, "read_journal", not_again)
            copied = build_package(
                conn, out_dir=tmp_path / "copied", key=key, login="records", now=PRINTED_AT
            )
        conn.execute("DELETE FROM archive_journal_parts")  # the PDFs stay cached
        read = build_package(
            conn, out_dir=tmp_path / "read", key=key, login="records", now=PRINTED_AT
        )
        kept = conn.execute("SELECT count(*) FROM archive_journal_parts").fetchone()[0]
    finally:
        conn.close()
    assert kept == 3  # the build that read the journals kept their files again
    assert _bag_files(copied.path) == _bag_files(read.path)


def _pid(_task: object) -> int:
    import os

    return os.getpid()


def test_one_spawned_worker_runs_apart_from_the_caller():
    import os

    from server.printing.pool import run_all

    apart = dict(run_all(_pid, ((n, n) for n in range(3)), workers=1, spawn=True))
    assert len(set(apart.values())) == 1 and os.getpid() not in apart.values()
    assert dict(run_all(_pid, ((n, n) for n in range(3)), workers=1)) == dict.fromkeys(
        range(3), os.getpid()
    )


def test_with_every_journal_kept_one_worker_prints_the_rest(school, tmp_path, monkeypatch):
    """Nothing to read: the pupils' pages and summaries go to a single Typst worker (the
    build's memory is one worker's), and the package is the one two workers make."""
    from server.archive import package as package_module

    conn = connect(school.database)
    try:
        assert pdf_cache.prerender(conn, YEAR, now=AHEAD) == 3
        close_year(conn, login="records", year_id=YEAR, on=CLOSED_ON)
        key = keys.generate(tmp_path / "keys" / "archive-key.pem", password=b"")
        monkeypatch.setattr(package_module, "POOL_FROM", 2)  # the test school is small
        pools = []
        real = package_module.run_all

        def watched(*args, **kwargs):
            pools.append((kwargs["workers"], kwargs["spawn"]))
            return real(*args, **kwargs)

        monkeypatch.setattr(package_module, "run_all", watched)
        one = build_package(
            conn, out_dir=tmp_path / "one", key=key, login="records", now=PRINTED_AT
        )
        two = build_package(
            conn, out_dir=tmp_path / "two", key=key, login="records", now=PRINTED_AT, workers=2
        )
    finally:
        conn.close()
    assert pools == [(1, True), (2, False)]
    assert _bag_files(one.path) == _bag_files(two.path)
