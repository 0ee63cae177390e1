"""The year's portfolios in the archive package (000 §4.2.1, §7.1): per pupil, the entries as
JSON, the printed portfolio (PDF/A) and the scans that prove them, each under its SHA-256.

    portfolio/<pupil>/portfolio.json         the achievements of the year, as consolidated
    portfolio/<pupil>/portfolio.pdf          printed, as the portfolio page prints it
    portfolio/<pupil>/documents/<sha256>.<ext>  the scan of a diploma or certificate

A scan whose upload never completed is not in the package; portfolio.json names it under
`documents_missing`, so the gap is written down rather than silent.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator

import msgspec

from server.printing.pdf import PdfJob, pdf_job
from server.storage import portfolio as portfolio_storage
from server.storage import portfolio_read
from server.web import portfolio as portfolio_pages
from server.web.pupil_access import class_name_of
from shared.model import Achievement, Directory
from shared.portfolio import EXTENSIONS

FORMAT = "zhurnal-portfolio/1"
SUFFIX = {media_type: ext for ext, media_type in EXTENSIONS.items() if ext != ".jpeg"}


class PortfolioFile(msgspec.Struct, frozen=True):
    format: str
    student_id: str
    student: str
    year_id: str
    achievements: list[Achievement]
    documents_missing: list[str]  # SHA-256 of scans whose upload did not complete


def portfolio_job(
    directory: Directory, student_id: str, achievements: list[Achievement], when: dt.datetime
) -> PdfJob:
    student = next(s for s in directory.students if s.id == student_id)
    lines = [portfolio_pages.line(a) for a in achievements]
    data = portfolio_pages.pdf_data(directory, student, class_name_of(directory, student_id), lines)
    data["printed"] = f"{when:%d.%m.%Y}"
    return pdf_job("portfolio", data, timestamp=when, archival=True)


def pupils_with_portfolio(conn: sqlite3.Connection, directory: Directory) -> int:
    rows = conn.execute(
        "SELECT DISTINCT student_id FROM achievements WHERE year_id = ?", (directory.year.id,)
    )
    known = {s.id for s in directory.students}
    return sum(1 for (student_id,) in rows if student_id in known)


def portfolio_parts(
    conn: sqlite3.Connection, directory: Directory, when: dt.datetime
) -> Iterator[tuple[str, dict[str, bytes], PdfJob]]:
    """(pupil id, {file name: content}, the portfolio's PDF to print) for every pupil of the
    year with an achievement in it."""
    by_pupil: dict[str, list[Achievement]] = {}
    for a in portfolio_storage.achievements(conn, year_id=directory.year.id):
        by_pupil.setdefault(a.student_id, []).append(a)
    known = {s.id: s for s in directory.students}
    for student_id in sorted(by_pupil):
        if student_id not in known:
            continue  # a pupil of another school on the same server
        achievements = by_pupil[student_id]
        files: dict[str, bytes] = {}
        missing = []
        for a in achievements:
            if a.attachment is None:
                continue
            stored = portfolio_read.complete_document(conn, a.attachment.sha256)
            if stored is None:
                missing.append(a.attachment.sha256)
                continue
            suffix = SUFFIX.get(stored.media_type, ".bin")
            files[f"documents/{stored.sha256}{suffix}"] = stored.body
        record = PortfolioFile(
            format=FORMAT,
            student_id=student_id,
            student=known[student_id].full_name,
            year_id=directory.year.id,
            achievements=achievements,
            documents_missing=sorted(set(missing)),
        )
        files["portfolio.json"] = msgspec.json.format(msgspec.json.encode(record), indent=1)
        yield student_id, files, portfolio_job(directory, student_id, achievements, when)


def read(content: bytes) -> PortfolioFile:
    return msgspec.json.decode(content, type=PortfolioFile)
