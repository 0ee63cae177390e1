"""PDF through Typst: compiled in-process, with Typst's embedded fonts (Cyrillic included).

System fonts are ignored on purpose: the same document prints the same on every server,
whatever fonts the machine has. One compiler per thread is kept and reused: loading Typst's
fonts costs more than compiling a page.

Archival PDFs (`archival=True`, what the archive packages hold) are PDF/A-2b (ISO 19005-2,
level B: every font embedded, XMP metadata, an output intent), and untagged: PDF/A-2b does not
ask for the structure tree, which makes Typst's PDFs about five times larger.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import typst

TEMPLATES = Path(__file__).parent / "templates"

PDF_A = "a-2b"  # ISO 19005-2 level B, the conformance archives ask for documents like ours

_encoder = msgspec.json.Encoder()
_local = threading.local()


class PrintError(Exception):
    """A template failed to compile: a bug in the template or in the data given to it."""


def _template_path(template_name: str) -> Path:
    name = template_name if template_name.endswith(".typ") else f"{template_name}.typ"
    path = (TEMPLATES / name).resolve()
    if path.parent != TEMPLATES.resolve() or not path.is_file():
        raise PrintError(f"no such print template: {template_name!r}")
    return path


class PdfJob(msgspec.Struct, frozen=True):
    """One PDF to compile: what a worker process needs, and nothing it would have to import."""

    template: str
    payload: str  # the data as JSON, read by the template as `sys.inputs.data`
    timestamp: dt.datetime
    archival: bool = False


def pdf_job(
    template_name: str,
    data: Any,
    *,
    timestamp: dt.datetime | None = None,
    archival: bool = False,
) -> PdfJob:
    return PdfJob(
        template=template_name,
        payload=_encoder.encode(data).decode(),
        timestamp=(timestamp or dt.datetime.now(dt.UTC)).replace(microsecond=0),
        archival=archival,
    )


def _compiler() -> typst.Compiler:
    compiler = getattr(_local, "compiler", None)
    if compiler is None:  # a Typst compiler is not to be shared between threads
        compiler = _local.compiler = typst.Compiler(root=str(TEMPLATES), ignore_system_fonts=True)
    return compiler


def compile_job(job: PdfJob) -> bytes:
    path = _template_path(job.template)
    try:
        return _compiler().compile(
            input=str(path),
            sys_inputs={"data": job.payload},
            timestamp=job.timestamp,
            pdf_standards=[PDF_A] if job.archival else [],
            pdf_tags=not job.archival,
        )
    except RuntimeError as exc:  # typst raises TypstError (a RuntimeError) with the diagnostics
        raise PrintError(f"{job.template}: {exc}") from exc


def render_pdf(
    template_name: str,
    data: Any,
    *,
    timestamp: dt.datetime | None = None,
    archival: bool = False,
) -> bytes:
    """Compile `templates/<template_name>.typ` with `data` (read there as `sys.inputs.data`).

    Give `timestamp` for a reproducible PDF (the archive does); otherwise it is now.
    """
    return compile_job(pdf_job(template_name, data, timestamp=timestamp, archival=archival))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, dt.date):
        return f"{value:%d.%m.%Y}"
    return str(value)


def table_pdf(
    title: str, header: Sequence[str], rows: Sequence[Sequence[object]], **options: Any
) -> bytes:
    """One printed table with a heading, e.g. a report or an archive listing; `options` are
    those of `table_job`."""
    return compile_job(table_job(title, header, rows, **options))


def table_job(
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    subtitle: str = "",
    notes: Sequence[str] = (),
    landscape: bool = False,
    timestamp: dt.datetime | None = None,
    archival: bool = False,
) -> PdfJob:
    data = {
        "title": title,
        "subtitle": subtitle,
        "header": [str(h) for h in header],
        "rows": [[_cell(c) for c in row] for row in rows],
        "notes": list(notes),
        "landscape": landscape,
    }
    return pdf_job("table", data, timestamp=timestamp, archival=archival)
