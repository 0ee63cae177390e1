"""Reading an archived year back: a read-only database rebuilt from the package alone.

The package's directory.json and each journal's CRDT document (document.yjs) are folded into a
fresh temporary database through the same storage functions the sync service uses, then the
connection is made read-only (`PRAGMA query_only`). Reports run on it unchanged, so the summary
sheets, journals and personal-file pages can be printed again and compared with those archived.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
from openpyxl import load_workbook

from server.archive import portfolio_files, printed
from server.archive.verify import read_info
from server.printing.pdf import PdfJob
from server.printing.pool import render_all
from server.storage import directory as directory_storage
from server.storage import journals as journal_storage
from server.storage.db import connect, create_schema, transaction
from shared.fold import fold
from shared.journal import JournalDoc
from shared.model import Directory, split_section


class ReadbackError(Exception):
    def __init__(self, message_ru: str):
        super().__init__(message_ru)
        self.message_ru = message_ru


@dataclass
class ArchivedYear:
    path: Path
    info: dict[str, str]
    directory: Directory
    documents: dict[str, JournalDoc]  # journal id -> its archived document
    corrections: list[dict]
    printed_at: dt.datetime
    journal_printed_at: dict[str, dt.datetime]  # a journal PDF printed ahead of the package
    conn: sqlite3.Connection  # read-only, rebuilt from the package
    workdir: Path  # where that database lives until close()

    def close(self) -> None:
        self.conn.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def open_package(bag_path: Path) -> ArchivedYear:
    data = bag_path / "data"
    info = read_info(bag_path)
    if not info or not (data / "directory.json").is_file():
        raise ReadbackError(f"{bag_path} — не архивный пакет журнала (нет directory.json).")
    directory = msgspec.json.decode((data / "directory.json").read_bytes(), type=Directory)
    closure = json.loads((data / "closure.json").read_text(encoding="utf-8"))
    documents = {}
    for journal in directory.journals:
        folder = data / "journals" / journal.class_id / journal.subject_id
        packed, plain = folder / "document.yjs.gz", folder / "document.yjs"  # format 2, 1
        if packed.is_file():
            documents[journal.id] = JournalDoc(gzip.decompress(packed.read_bytes()) or None)
        elif plain.is_file():  # absent once destroyed by an act; the summary sheets stay
            documents[journal.id] = JournalDoc(plain.read_bytes() or None)
    workdir = Path(tempfile.mkdtemp(prefix="zhurnal-readback-"))
    try:
        conn = _rebuild(directory, documents, workdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return ArchivedYear(
        workdir=workdir,
        path=bag_path,
        info=info,
        directory=directory,
        documents=documents,
        corrections=closure.get("corrections", []),
        printed_at=dt.datetime.fromisoformat(info["Zhurnal-Printed-At"]),
        journal_printed_at=_journal_dates(data),
        conn=conn,
    )


def _journal_dates(data: Path) -> dict[str, dt.datetime]:
    """Data path of a journal PDF -> when it was printed, as contents.json records it."""
    try:
        listing = json.loads((data / "contents.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {
        f["path"]: dt.datetime.fromisoformat(f["printed_at"])
        for f in listing.get("files", [])
        if f.get("printed_at")
    }


def _rebuild(directory: Directory, documents: dict[str, JournalDoc], folder: Path):
    # a temporary file, not :memory:, so a big school's year need not fit in RAM
    conn = connect(folder / "year.sqlite")
    create_schema(conn)
    with transaction(conn):
        directory_storage.upsert(
            conn,
            [
                directory.school,
                directory.year,
                *directory.periods,
                *directory.classes,
                *directory.subjects,
                *directory.students,
                *directory.memberships,
            ],
        )
        directory_storage.upsert(conn, directory.staff, school_id=directory.school.id)
        directory_storage.upsert(conn, [*directory.teaching, *directory.class_teachers])
        for journal in directory.journals:
            doc = documents.get(journal.id)
            if doc is None:
                continue
            journal_storage.ensure_journal(conn, journal, 0.0)
            events = doc.events()
            raw = doc.raw_events()
            state = fold(events)
            journal_storage.append_update(conn, journal.id, doc.snapshot(), None, 0.0)
            journal_storage.insert_events(
                conn, journal.id, [(raw[i], e) for i, e in events.items()], state, 0.0
            )
            journal_storage.write_cells(conn, journal.id, state, state.cells)
            journal_storage.set_state(conn, journal.id, doc.state_vector(), len(events), 0.0)
    conn.execute("PRAGMA query_only = ON")
    return conn


# ----------------------------------------------------------------- printing again


@dataclass
class Comparison:
    same: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # archived file absent (destroyed)
    # summary sheets kept after their class's journals were destroyed: the sources are gone
    not_reproducible: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.different


def xlsx_values(content: bytes) -> list[list]:
    """Cell values of every sheet: XLSX files carry their creation time, so bytes differ."""
    book = load_workbook(io.BytesIO(content), read_only=True)
    try:
        return [[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book]
    finally:
        book.close()


def reprint(archived: ArchivedYear, *, workers: int | None = None) -> dict[str, bytes]:
    """Every printable file of the package, made again from the read-back data; the PDFs are
    compiled by the process pool (server/printing/pool.py) while the next are prepared."""
    directory, when = archived.directory, archived.printed_at
    # format 1 held tagged PDFs, not PDF/A: printed again the way they were made
    archival = archived.info.get("Zhurnal-Format") != "zhurnal-archive/1"
    files: dict[str, bytes] = {}
    kind = archived.info.get("Zhurnal-Package-Kind")
    classes = {j.class_id for j in directory.journals if j.id in archived.documents}
    if kind == "year":  # a class whose journals are destroyed cannot be printed again
        classes -= {j.class_id for j in directory.journals if j.id not in archived.documents}
    pupils = (
        printed.pupils_of_year(directory)
        if kind == "year" and len(archived.documents) == len(directory.journals)
        else []
    )

    def jobs() -> Iterator[tuple[str, PdfJob]]:
        for journal in directory.journals:
            doc = archived.documents.get(journal.id)
            if doc is None:
                continue
            own = [c for c in archived.corrections if c["journal_id"] == journal.id]
            path = f"{printed.journal_folder(journal)}/journal.pdf"
            at = archived.journal_printed_at.get(path, when)
            state = fold(doc.events())
            yield path, printed.journal_job(directory, journal, state, at, own, archival=archival)
        only = split_section(archived.info.get("Zhurnal-Journal-Id", "").rpartition("~")[2])[0]
        only = only or None
        for class_id in sorted(classes):
            _, job, sheets = printed.summary_parts(
                archived.conn, directory, class_id, when, only, archival=archival
            )
            files.update({f"summary/{class_id}/{name}": data for name, data in sheets.items()})
            yield f"summary/{class_id}/summary.pdf", job
        marks = printed.personal_marks(archived.conn, directory) if pupils else {}
        for pupil in pupils:
            job, extra = printed.personal_parts(
                directory, pupil, marks.get(pupil.id, []), when, archival=archival
            )
            files.update({f"personal/{pupil.id}/{name}": data for name, data in extra.items()})
            yield f"personal/{pupil.id}/year-marks.pdf", job

        for record in sorted(archived.path.glob("data/portfolio/*/portfolio.json")):
            portfolio = portfolio_files.read(record.read_bytes())
            job = portfolio_files.portfolio_job(
                directory, portfolio.student_id, portfolio.achievements, when
            )
            yield f"portfolio/{portfolio.student_id}/portfolio.pdf", job

    expected = len(archived.documents) + len(classes) + len(pupils)
    files.update(render_all(jobs(), workers=workers, expected=expected))
    return files


def compare(archived: ArchivedYear) -> Comparison:
    """Print everything again and compare with the archived files."""
    result = Comparison()
    data = archived.path / "data"
    again = reprint(archived)
    for path in sorted(p.relative_to(data).as_posix() for p in data.rglob("*.*")):
        if path.endswith((".pdf", ".xlsx", ".csv")) and path not in again:
            result.not_reproducible.append(path)
    for path, content in sorted(again.items()):
        original = data / path
        if not original.is_file():
            result.missing.append(path)
            continue
        old = original.read_bytes()
        if path.endswith(".xlsx"):
            same = xlsx_values(old) == xlsx_values(content)
        else:
            same = old == content
        (result.same if same else result.different).append(path)
    return result
