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
from collections.abc import Iterable, Iterator
from pathlib import Path
from threading import Thread

import msgspec

from server.archive import printed
from server.printing.pdf import PDF_A, TEMPLATES, PdfJob, pdf_job
from server.printing.pool import render_all
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


def prerender(
    conn: sqlite3.Connection,
    year_id: str,
    *,
    class_id: str | None = None,
    now: dt.datetime | None = None,
    workers: int | None = None,
) -> int:
    """Print every journal of the year (of one class) whose cached PDF is missing or stale;
    returns how many were printed."""
    directory = directory_storage.load_full(conn, year_id)
    when = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    corrections = archive_storage.correction_log(conn, year_id)
    journals = [j for j in directory.journals if class_id in (None, j.class_id)]

    def stale() -> Iterator[tuple[tuple[str, str], PdfJob]]:
        for journal in journals:
            _, state = journal_state(conn, journal.id)
            own = [c for c in corrections if c["journal_id"] == journal.id]
            entry = journal_print(directory, journal, state, own, when)
            if cached(conn, journal.id, entry.key) is None:
                yield (journal.id, entry.key), entry.job

    made = 0
    results: Iterable = render_all(stale(), workers=workers, expected=len(journals))
    for (journal_id, key), pdf in results:
        store(conn, journal_id, key, when, pdf)
        made += 1
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
