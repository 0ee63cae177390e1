"""The package's files, made where the work is: in the worker processes of the build.

Reading a journal's document, folding it, writing its history as JSON and laying out its
printed form cost as much as compiling it, so each journal is one task of the pool
(server/printing/pool.py): the worker reads the journal from the database itself, writes
events.json, document.yjs.gz and journal.pdf straight into the package's staging folder, and
sends back only each file's listing entry (size, SHA-256), the authors, and what the parent
keeps in the caches: a newly printed PDF, and the journal's files, so that the next package
(or the year's, after printing ahead) copies an unchanged journal without reading it. The
class summaries and the pupils' pages are tasks too. The parent holds no journal and no
file: its memory stays flat however large the school.

With one worker (a small package, a test) the same tasks run in the caller's process on the
caller's connection; the files are the same byte for byte either way.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import msgspec

from server.archive import pdf_cache, printed
from server.printing.pdf import PdfJob, compile_job
from server.storage import journals as journal_storage
from server.storage.db import connect, database_file
from shared import groups
from shared.fold import order_key
from shared.hlc import parse_stamp
from shared.model import Directory, JournalInfo, Student

DOCUMENT = "document.yjs.gz"  # gzip (RFC 1952) of the Yjs update: see package._readme
# retention categories of REQUIREMENTS.md, by the folder a file lies in
JOURNALS, SUMMARY, PERSONAL, PACKAGE = "journals", "summary_sheets", "personal_files", "package"


def category_of(path: str) -> str:
    top = path.split("/", 1)[0]
    # the portfolio is kept with the personal file it belongs to (000 §4.2.1)
    folders = {
        "journals": JOURNALS,
        "summary": SUMMARY,
        "personal": PERSONAL,
        "portfolio": PERSONAL,
    }
    return folders.get(top, PACKAGE)


def write_file(
    root: Path, path: str, data: bytes, title: str, *, printed_at: str | None = None
) -> dict:
    """Write one payload file under `root`; returns its entry of contents.json."""
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    entry = {
        "path": path,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "category": category_of(path),
        "title": title,
    }
    if printed_at is not None:  # a journal PDF printed ahead keeps its own date
        entry["printed_at"] = printed_at
    return entry


EVENTS_FORMAT = "zhurnal-events/2"


def _iso_ms(ms: float) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds")


class _EventLine(msgspec.Struct, omit_defaults=True):
    """One event of events.json (format zhurnal-events/2). The author is the event's own
    `author` id, named in people.json; `status` "current" and an absent refusal are left out."""

    event: msgspec.Raw  # as written and stored: id, author, device, hlc, fields…
    entered_at: str
    received_at: str | None = None
    status: str = "current"
    refused_because: str | None = None


_line_encoder = msgspec.json.Encoder()


def events_json(
    directory: Directory,
    journal: JournalInfo,
    read: pdf_cache.JournalRead,
    received: dict[str, float],
) -> bytes:
    """The journal's whole history: every event with its author, device, times and status.

    One event a line, oldest first (HLC order): readable by eye and by any JSON parser."""
    events, raw, state = read.events, read.raw, read.state
    lines = []
    for event in sorted(events.values(), key=order_key):
        at = received.get(event.id)
        refusal = state.refusals.get(event.id)
        lines.append(
            _line_encoder.encode(
                _EventLine(
                    event=msgspec.Raw(raw[event.id].encode()),
                    entered_at=_iso_ms(parse_stamp(event.hlc)[0]),
                    received_at=_iso_ms(at * 1000) if at is not None else None,
                    status=journal_storage.event_status(event.id, state),
                    refused_because=refusal.reason if refusal else None,
                )
            )
        )
    head = msgspec.json.encode(
        {
            "format": EVENTS_FORMAT,
            "journal_id": journal.id,
            "class": printed.class_name(directory, journal.class_id),
            "subject": groups.section_title(directory, journal),
            "people": "../../../people.json",
            "count": len(lines),
        }
    )
    return head[:-1] + b', "events": [\n' + b",\n".join(lines) + b"\n]}\n"


class Context(msgspec.Struct, frozen=True):
    """What every task of one build shares; sent to each worker once, when it starts."""

    database: str  # the workers open it themselves
    root: str  # the staging folder; "" to fill the caches only (printing ahead)
    directory: Directory
    when: dt.datetime
    kind: str
    corrections: list[dict]
    directory_digest: bytes = b""  # pdf_cache.directory_digest(directory)
    only: str | None = None  # a journal's package: its subject's summary columns only


class Done(msgspec.Struct):
    """A task's outcome: the files written, the journal's authors, a PDF to cache."""

    entries: list[dict]
    authors: list[str] = []
    cache: tuple[str, str, bytes] | None = None  # (journal id, content key, PDF)
    parts: tuple[str, str, pdf_cache.JournalParts] | None = None  # (journal id, key, files)


class JournalTask(msgspec.Struct, frozen=True):
    journal: JournalInfo


class SummaryTask(msgspec.Struct, frozen=True):
    class_id: str


class PersonalTask(msgspec.Struct, frozen=True):
    pupil: Student
    marks: list


class PdfTask(msgspec.Struct, frozen=True):
    """A PDF whose data the parent prepared (a portfolio): compiled and written here."""

    path: str
    title: str
    job: PdfJob


Task = JournalTask | SummaryTask | PersonalTask | PdfTask


def journal_title(directory: Directory, journal: JournalInfo) -> str:
    return (
        f"{groups.section_title(directory, journal)}, "
        f"{printed.class_name(directory, journal.class_id)} класс"
    )


def run(ctx: Context, conn: sqlite3.Connection, task: Any) -> Done:
    root, directory, when = Path(ctx.root), ctx.directory, ctx.when
    if isinstance(task, JournalTask):
        return _journal(ctx, conn, task.journal)
    if isinstance(task, SummaryTask):
        _, job, files = printed.summary_parts(conn, directory, task.class_id, when, ctx.only)
        what = f"Сводная ведомость: {printed.class_name(directory, task.class_id)} класс"
        files = {**files, "summary.pdf": compile_job(job)}
        return Done(
            [write_file(root, f"summary/{task.class_id}/{n}", c, what) for n, c in files.items()]
        )
    if isinstance(task, PersonalTask):
        pupil = task.pupil
        job, files = printed.personal_parts(directory, pupil, task.marks, when)
        what = f"Отметки за год для личного дела: {pupil.full_name}"
        files = {**files, "year-marks.pdf": compile_job(job)}
        return Done(
            [write_file(root, f"personal/{pupil.id}/{n}", c, what) for n, c in files.items()]
        )
    return Done([write_file(root, task.path, compile_job(task.job), task.title)])


def _journal(ctx: Context, conn: sqlite3.Connection, journal: JournalInfo) -> Done:
    """The journal's history, its document, and its printed form: as last made when nothing
    they are made from changed since (pdf_cache.parts_key), else read, folded and printed
    (the PDF still from the cache when it shows the same)."""
    root, directory = Path(ctx.root), ctx.directory
    own = [c for c in ctx.corrections if c["journal_id"] == journal.id]
    key = pdf_cache.parts_key(conn, journal.id, ctx.directory_digest, own)
    folder = printed.journal_folder(journal)
    title = journal_title(directory, journal)

    def files(events: bytes, document: bytes, pdf: bytes, printed_at: str) -> list[dict]:
        if not ctx.root:  # printing ahead: the caches are filled, no package is written
            return []
        return [
            write_file(root, f"{folder}/events.json", events, f"История записей: {title}"),
            write_file(
                root,
                f"{folder}/{DOCUMENT}",
                document,
                f"Документ журнала (Yjs, сжат gzip): {title}",
            ),
            write_file(
                root,
                f"{folder}/journal.pdf",
                pdf,
                f"Классный журнал: {title}",
                printed_at=printed_at,
            ),
        ]

    same = pdf_cache.cached_parts(conn, journal.id, key)
    hit = same and pdf_cache.cached(conn, journal.id, same.pdf_key)
    if same and hit:
        return Done(files(same.events_json, same.document_gz, *hit), same.authors)

    read = pdf_cache.read_journal(conn, journal.id)
    received = journal_storage.received_times(conn, journal.id)
    events = events_json(directory, journal, read, received)
    document = gzip.compress(read.doc.snapshot(), compresslevel=6, mtime=0)
    authors = sorted({e.author for e in read.events.values()})
    entry = pdf_cache.journal_print(directory, journal, read.state, own, ctx.when)
    del read  # the journal's fold is no longer needed while Typst compiles
    hit = pdf_cache.cached(conn, journal.id, entry.key)
    cache = None
    if hit is None:
        hit = compile_job(entry.job), ctx.when.isoformat()
        cache = (journal.id, entry.key, hit[0])
    made = pdf_cache.JournalParts(zlib.compress(events, 1), document, authors, entry.key)
    return Done(files(events, document, *hit), authors, cache, (journal.id, key, made))


# ----------------------------------------------------------------- in a worker process

_context: Context | None = None
_conn: sqlite3.Connection | None = None


def start_worker(ctx: Context) -> None:
    """The pool's initializer: the build's context, and a connection of the worker's own."""
    global _context, _conn
    _context, _conn = ctx, connect(Path(ctx.database))


def run_in_worker(task: Any) -> Done:
    assert _context is not None and _conn is not None, "start_worker first"
    return run(_context, _conn, task)


def database_of(conn: sqlite3.Connection) -> str:
    """The file behind `conn`; "" for a database in memory (no worker can open that)."""
    return database_file(conn)
