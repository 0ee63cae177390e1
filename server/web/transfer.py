"""The transfer extract (001 §4.7): one pupil's current marks of the year and the results of
intermediate attestation, from the consolidated journal, for the PDF and the file alike."""

from __future__ import annotations

import base64
import datetime as dt
import sqlite3
from pathlib import Path

from server.archive import keys
from server.storage import consolidated
from server.storage.attestation import result_cells
from server.web.diary import WORK_KINDS
from shared import transfer
from shared.columns import result_column_id, result_columns
from shared.model import Directory, Student


def build(
    conn: sqlite3.Connection,
    directory: Directory,
    student: Student,
    class_name: str,
    today: dt.date,
) -> transfer.TransferExtract:
    """Every mark the pupil got this year in any class of the school (one who changed class
    keeps their earlier marks), and their period and year marks, by subject."""
    year = directory.year
    subjects = {s.id: s.name for s in directory.subjects}
    class_ids = {c.id for c in directory.classes}
    marks = [
        transfer.ExtractMark(
            subject=subjects.get(m.subject_id, m.subject_id),
            date=dt.date.fromisoformat(m.date),
            value=m.value,
            work_kind=WORK_KINDS.get(m.work_kind, m.work_kind),
            weight=m.weight,
            modifier=m.modifier,
            special=m.special,
        )
        for m in consolidated.marks(conn, year_id=year.id, student_id=student.id)
    ]
    marks.sort(key=lambda m: (m.subject, m.date))
    cells = [
        c
        for c in result_cells(conn, year_id=year.id, student_id=student.id)
        if c.class_id in class_ids
    ]
    columns = result_columns(
        directory.periods, {result_column_id(c.period_id, c.column) for c in cells}
    )
    by_id = {column.id: (n, column) for n, column in enumerate(columns)}
    found = [
        (subjects.get(c.subject_id, c.subject_id), *by_id[key], c)
        for c in cells
        if (key := result_column_id(c.period_id, c.column)) in by_id
    ]
    attestation = [
        transfer.ExtractAttestation(
            subject=subject,
            period=column.title,
            period_kind=column.period.kind.value,
            value=c.value,
            special=c.special,
            column=c.column,
        )
        for subject, _, column, c in sorted(found, key=lambda f: (f[0], f[1]))
    ]
    return transfer.TransferExtract(
        school=directory.school.name,
        school_id=directory.school.id,
        year=year.name,
        year_id=year.id,
        pupil=transfer.ExtractPupil(
            id=student.id,
            last_name=student.last_name,
            first_name=student.first_name,
            patronymic=student.patronymic,
            birth_date=student.birth_date,
        ),
        class_name=class_name,
        date_from=year.starts,
        date_to=min(today, year.ends),
        issued=today,
        marks=tuple(marks),
        attestation=tuple(attestation),
    )


def by_subject(extract: transfer.TransferExtract) -> list[list[str]]:
    """Rows «subject | dd.mm mark, …» — the current marks as the printed extract lists them."""
    found: dict[str, list[str]] = {}
    for m in extract.marks:
        kind = f" ({m.work_kind})" if m.work_kind else ""
        found.setdefault(m.subject, []).append(f"{m.date:%d.%m} — {m.text}{kind}")
    return [[subject, "; ".join(items)] for subject, items in found.items()]


def pdf_data(extract: transfer.TransferExtract, director: str) -> dict:
    pupil = extract.pupil
    name = " ".join(x for x in (pupil.last_name, pupil.first_name, pupil.patronymic) if x)
    return {
        "title": "Выписка текущих отметок и результатов промежуточной аттестации",
        "school": extract.school,
        "student": name,
        "birth_date": f"{pupil.birth_date:%d.%m.%Y}" if pupil.birth_date else "",
        "class_name": extract.class_name,
        "year": extract.year,
        "span": f"{extract.date_from:%d.%m.%Y} — {extract.date_to:%d.%m.%Y}",
        "marks": by_subject(extract),
        "attestation": [[a.subject, a.period, a.text] for a in extract.attestation],
        "director": director,
        "issued": f"{extract.issued:%d.%m.%Y}",
    }


def signed_file(extract: transfer.TransferExtract, key_path: Path) -> tuple[bytes, bool]:
    """The extract file, signed with the school's archive key when there is one readable;
    (bytes, signed?)."""
    try:
        key = keys.load_private(key_path)
    except keys.ArchiveKeyError:
        return transfer.encode_file(extract), False
    signature = base64.b64encode(key.sign(transfer.extract_bytes(extract))).decode()
    return (
        transfer.encode_file(
            extract, fingerprint=keys.fingerprint(key.public_key()), signature=signature
        ),
        True,
    )


def check_signature(envelope: transfer.ExtractFile, public_key_path: Path) -> bool:
    public = keys.load_public(public_key_path)
    if envelope.key_fingerprint != keys.fingerprint(public):
        return False
    return keys.verify_signature(public, envelope.signature, bytes(envelope.extract))


def describe(envelope: transfer.ExtractFile, extract: transfer.TransferExtract) -> list[str]:
    """The file's content in Russian lines, for `journal-server transfer-show`."""
    pupil = extract.pupil
    lines = [
        f"Выписка при переводе (формат {envelope.format}, версия {envelope.version})",
        f"Школа: {extract.school}",
        f"Ученик: {pupil.last_name} {pupil.first_name} {pupil.patronymic}".rstrip()
        + (f", дата рождения {pupil.birth_date:%d.%m.%Y}" if pupil.birth_date else ""),
        f"Класс: {extract.class_name}, {extract.year} учебный год",
        f"Период: {extract.date_from:%d.%m.%Y} — {extract.date_to:%d.%m.%Y}; "
        f"выдана {extract.issued:%d.%m.%Y}",
        "",
        f"Текущие отметки ({len(extract.marks)}):",
    ]
    lines += [f"  {subject}: {marks}" for subject, marks in by_subject(extract)]
    lines += ["", f"Промежуточная аттестация ({len(extract.attestation)}):"]
    lines += [f"  {a.subject}, {a.period}: {a.text}" for a in extract.attestation]
    return lines
