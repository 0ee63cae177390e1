"""Each journal's archival PDF, printed ahead of the year's package and kept by content.

Typst compiling the class journals is most of a package's build time. A journal's PDF is made
when its period is closed (or on demand, `journal-server archive-prerender`) and kept in
`archive_pdf_cache` under a key computed from what the PDF shows — the journal folded from its
CRDT document (so, from its state vector), the class list and names, the corrections log — plus
the templates and the Typst version. Building the package computes the same key; a journal
unchanged since prints from the cache, a journal corrected since misses and prints anew.
The printed date is not part of the key: a cached PDF keeps the date it was printed, and the
package's contents.json records that date (`printed_at`) so that read-back prints it again
byte for byte.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.metadata
import logging
import sqlite3
import time
import zlib
from collections.abc import Iterable
from pathlib import Path
from threading import Thread
from typing import Any

import msgspec

from server.archive import printed
from server.printing.pdf import PDF_A, TEMPLATES, PdfJob, pdf_job
from server.printing.pool import run_all
from server.storage import archive as archive_storage
from server.storage import directory as directory_storage
from server.storage import journals as journal_storage
from server.storage.db import connect, transaction
from shared.fold import JournalState, fold
from shared.journal import JournalDoc
from shared.model import Directory, JournalEvent, JournalInfo, decode_event

logger = logging.getLogger("zhurnal.archive")


# the journal's form and what it imports
JOURNAL_SOURCES = (f"{printed.JOURNAL_TEMPLATE}.typ", "common.typ")


@functools.cache
def _printer_digest() -> bytes:
    """The journal form's sources and the Typst version: a new form or renderer prints anew."""
    digest = hashlib.sha256(importlib.metadata.version("typst").encode())
    for path in (TEMPLATES / name for name in JOURNAL_SOURCES):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


class JournalPrint(msgspec.Struct, frozen=True):
    key: str  # SHA-256 of what the PDF shows, not of when it was printed
    job: PdfJob


def journal_print(
    directory: Directory,
    journal: JournalInfo,
    state: JournalState,
    corrections: list[dict],
    when: dt.datetime,
) -> JournalPrint:
    data = printed.journal_print_data(directory, journal, state, when, corrections)
    shown = {k: v for k, v in data.items() if k != "printed"}
    digest = hashlib.sha256(_printer_digest())
    digest.update(PDF_A.encode() + b"\0" + msgspec.json.encode(shown))
    job = pdf_job(printed.JOURNAL_TEMPLATE, data, timestamp=when, archival=True)
    return JournalPrint(key=digest.hexdigest(), job=job)


def cached(conn: sqlite3.Connection, journal_id: str, key: str) -> tuple[bytes, str] | None:
    """(PDF, printed at as ISO text) when the journal's cached PDF shows exactly `key`."""
    row = conn.execute(
        "SELECT pdf, printed_at FROM archive_pdf_cache WHERE journal_id = ? AND content_key = ?",
        (journal_id, key),
    ).fetchone()
    return (bytes(row["pdf"]), row["printed_at"]) if row else None


def store(
    conn: sqlite3.Connection, journal_id: str, key: str, printed_at: dt.datetime, pdf: bytes
) -> None:
    with transaction(conn):
        conn.execute(
            "INSERT OR REPLACE INTO archive_pdf_cache "
            "(journal_id, content_key, printed_at, pdf, made_at) VALUES (?, ?, ?, ?, ?)",
            (journal_id, key, printed_at.isoformat(), pdf, time.time()),
        )


# ----------------------------------------------------------------- the journal's other files

# bump when events.json or document.yjs.gz would be written differently from the same journal
PARTS_VERSION = 1


def directory_digest(directory: Directory) -> bytes:
    """What a journal's files take from the directory (names, class lists, periods, staff),
    as one digest per build. The closure is left out: closing the year prints nothing anew."""
    return hashlib.sha256(
        msgspec.json.encode(msgspec.structs.replace(directory, closure=None))
    ).digest()


def parts_key(
    conn: sqlite3.Connection, journal_id: str, directory: bytes, corrections: list[dict]
) -> str:
    """The SHA-256 of what a journal's archive files are made from, found without reading
    its document: its state vector (entries are never changed nor deleted, so the state
    vector names the content), how many entries the server received, the directory, the
    journal's corrections after closing, the printer and the formats."""
    sv = journal_storage.state_vector(conn, journal_id) or b""
    received = journal_storage.event_count(conn, journal_id)
    digest = hashlib.sha256(f"{PARTS_VERSION}\0{PDF_A}\0{journal_id}\0{received}\0".encode())
    for part in (_printer_digest(), directory, sv, msgspec.json.encode(corrections)):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


class JournalParts(msgspec.Struct, frozen=True):
    """A journal's events.json (zlib-compressed here) and document.yjs.gz as last made, its
    authors, and the content key of its PDF in archive_pdf_cache."""

    events_json: bytes
    document_gz: bytes
    authors: list[str]
    pdf_key: str


def journals_to_read(
    conn: sqlite3.Connection,
    journals: Iterable[JournalInfo],
    directory: bytes,
    corrections: list[dict],
) -> int:
    """How many of `journals` have changed since their files were last kept."""
    missing = 0
    for journal in journals:
        own = [c for c in corrections if c["journal_id"] == journal.id]
        key = parts_key(conn, journal.id, directory, own)
        missing += archive_storage.journal_parts_row(conn, journal.id, key) is None
    return missing


def cached_parts(conn: sqlite3.Connection, journal_id: str, key: str) -> JournalParts | None:
    row = archive_storage.journal_parts_row(conn, journal_id, key)
    if row is None:
        return None
    return JournalParts(
        events_json=zlib.decompress(row["events_json"]),
        document_gz=bytes(row["document_gz"]),
        authors=msgspec.json.decode(row["authors"]),
        pdf_key=row["pdf_key"],
    )


def store_parts(conn: sqlite3.Connection, journal_id: str, key: str, parts: JournalParts) -> None:
    """Keep the journal's files; `parts.events_json` is given already compressed."""
    with transaction(conn):
        archive_storage.put_journal_parts(
            conn,
            journal_id,
            key,
            parts.events_json,
            parts.document_gz,
            msgspec.json.encode(parts.authors).decode(),
            parts.pdf_key,
            time.time(),
        )


class JournalRead(msgspec.Struct, frozen=True):
    """One journal read once for the archive: its document, its entries as stored and
    decoded, and their fold."""

    doc: JournalDoc
    raw: dict[str, str]
    events: dict[str, JournalEvent]
    state: JournalState


def read_journal(conn: sqlite3.Connection, journal_id: str) -> JournalRead:
    """Each entry is taken out of the Yjs map once (pycrdt's per-key access is the slow part
    of reading a journal) and decoded once; an entry that does not decode is skipped, as
    JournalDoc.events() does."""
    state_bytes, _ = journal_storage.load_document(conn, journal_id)
    doc = JournalDoc(state_bytes or None)
    raw = doc.raw_events()
    events = {}
    for key, text in raw.items():
        try:
            events[key] = decode_event(text)
        except (msgspec.ValidationError, msgspec.DecodeError):
            continue
    return JournalRead(doc=doc, raw=raw, events=events, state=fold(events))


def journal_state(conn: sqlite3.Connection, journal_id: str) -> tuple[JournalDoc, JournalState]:
    """The journal's document and its fold."""
    read = read_journal(conn, journal_id)
    return read.doc, read.state


def keep(conn: sqlite3.Connection, done: Any, printed_at: dt.datetime) -> None:
    """Keep what a task of the build (server/archive/parts.py) newly made: the journal's PDF
    and its other files."""
    if done.cache is not None:
        journal_id, content_key, pdf = done.cache
        store(conn, journal_id, content_key, printed_at, pdf)
    if done.parts is not None:
        store_parts(conn, *done.parts)


def prerender(
    conn: sqlite3.Connection,
    year_id: str,
    *,
    class_id: str | None = None,
    now: dt.datetime | None = None,
    workers: int | None = None,
) -> int:
    """Print every journal of the year (of one class) whose cached PDF is missing or stale,
    and keep its other archive files; returns how many were printed."""
    from server.archive import parts

    directory = directory_storage.load_full(conn, year_id)
    when = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    context = parts.Context(
        database=parts.database_of(conn),
        root="",  # no package: the caches only
        directory=directory,
        when=when,
        kind="year",
        corrections=archive_storage.correction_log(conn, year_id),
        directory_digest=directory_digest(directory),
    )
    journals = [j for j in directory.journals if class_id in (None, j.class_id)]
    made = 0
    results: Iterable = run_all(
        parts.run_in_worker,
        ((j.id, parts.JournalTask(j)) for j in journals),
        workers=1 if not context.database else workers,
        expected=len(journals),
        initializer=parts.start_worker,
        initargs=(context,),
        local=lambda task: parts.run(context, conn, task),
    )
    for _, done in results:
        keep(conn, done, when)
        made += done.cache is not None
    return made


def prerender_in_background(database: Path, year_id: str, class_id: str | None = None) -> Thread:
    """Print ahead in a thread of its own (a period closed on a web page must not wait for
    Typst); a failure is logged and costs only time: the package prints what it misses."""

    def work() -> None:
        conn = connect(database)
        try:
            prerender(conn, year_id, class_id=class_id)
        except Exception:
            logger.exception("printing ahead of %s (%s) failed", year_id, class_id or "all")
        finally:
            conn.close()

    thread = Thread(target=work, name=f"archive-prerender-{year_id}-{class_id}", daemon=True)
    thread.start()
    return thread
