"""PDF through Typst: compiled in-process, with Typst's embedded fonts (Cyrillic included).

System fonts are ignored on purpose: the same document prints the same on every server,
whatever fonts the machine has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import typst

TEMPLATES = Path(__file__).parent / "templates"

_encoder = msgspec.json.Encoder()


class PrintError(Exception):
    """A template failed to compile: a bug in the template or in the data given to it."""


def _template_path(template_name: str) -> Path:
    name = template_name if template_name.endswith(".typ") else f"{template_name}.typ"
    path = (TEMPLATES / name).resolve()
    if path.parent != TEMPLATES.resolve() or not path.is_file():
        raise PrintError(f"no such print template: {template_name!r}")
    return path


def render_pdf(template_name: str, data: Any, *, timestamp: dt.datetime | None = None) -> bytes:
    """Compile `templates/<template_name>.typ` with `data` (read there as `sys.inputs.data`).

    Give `timestamp` for a reproducible PDF (the archive does); otherwise it is now.
    """
    path = _template_path(template_name)
    payload = _encoder.encode(data).decode()
    try:
        return typst.compile(
            str(path),
            root=str(TEMPLATES),
            sys_inputs={"data": payload},
            ignore_system_fonts=True,
            timestamp=(timestamp or dt.datetime.now(dt.UTC)).replace(microsecond=0),
        )
    except RuntimeError as exc:  # typst raises TypstError (a RuntimeError) with the diagnostics
        raise PrintError(f"{template_name}: {exc}") from exc


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, dt.date):
        return f"{value:%d.%m.%Y}"
    return str(value)


def table_pdf(
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    subtitle: str = "",
    notes: Sequence[str] = (),
    landscape: bool = False,
    timestamp: dt.datetime | None = None,
) -> bytes:
    """One printed table with a heading, e.g. a report or an archive listing."""
    data = {
        "title": title,
        "subtitle": subtitle,
        "header": [str(h) for h in header],
        "rows": [[_cell(c) for c in row] for row in rows],
        "notes": list(notes),
        "landscape": landscape,
    }
    return render_pdf("table", data, timestamp=timestamp)
