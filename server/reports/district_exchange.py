"""District figures of a school kept on its own server, carried to the district's server.

`export_figures` writes a school's anonymised figures (per grade: pupils, marks by value,
missed lessons; no names, no ids of people) as JSON signed with the school's archive key
(server/archive/keys.py). `import_figures` on the district's server checks the signature
against the school's public key, which the district already holds to verify the school's
archive, and keeps the figures for the district page (server/reports/district.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import sqlite3
import time

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from server.archive.keys import fingerprint, verify_signature
from server.reports.district import school_figures
from server.storage.db import transaction

FORMAT = "zhurnal-district-figures/1"


class DistrictFileError(Exception):
    def __init__(self, message_ru: str):
        super().__init__(message_ru)
        self.message_ru = message_ru


class GradeFigures(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    grade: int
    pupils: int
    marks: dict[str, int]  # "2".."5" -> how many
    missed: int
    categories: dict[str, int] = {}  # issue 16: pupils by category (attestation.classify)
    exempt: int = 0


class FiguresFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    format: str
    school_id: str
    school_name: str
    district: str
    date_from: dt.date | None
    date_to: dt.date | None
    created: dt.datetime
    grades: tuple[GradeFigures, ...]


class SignedFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    payload: str  # the FiguresFile JSON, exactly the bytes signed
    fingerprint: str
    signature: str


def export_figures(
    conn: sqlite3.Connection,
    key: Ed25519PrivateKey,
    school_id: str,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> bytes:
    school = conn.execute("SELECT * FROM schools WHERE id = ?", (school_id,)).fetchone()
    if school is None:
        raise DistrictFileError(f"Школы «{school_id}» нет в базе.")
    if not school["district"]:
        raise DistrictFileError(f"У школы «{school_id}» не указан район.")
    grades = school_figures(conn, school_id, date_from, date_to)
    figures = FiguresFile(
        format=FORMAT,
        school_id=school["id"],
        school_name=school["name"],
        district=school["district"],
        date_from=date_from,
        date_to=date_to,
        created=dt.datetime.now(dt.UTC).replace(microsecond=0),
        grades=tuple(
            GradeFigures(
                grade=g,
                pupils=f.pupils,
                marks={str(v): n for v, n in sorted(f.marks.items())},
                missed=f.missed,
                categories=dict(sorted(f.categories.items())),
                exempt=f.exempt,
            )
            for g, f in sorted(grades.items())
        ),
    )
    payload = msgspec.json.encode(figures)
    signed = SignedFile(
        payload=payload.decode(),
        fingerprint=fingerprint(key.public_key()),
        signature=base64.b64encode(key.sign(payload)).decode(),
    )
    return msgspec.json.format(msgspec.json.encode(signed), indent=1)


def import_figures(conn: sqlite3.Connection, data: bytes, trusted: Ed25519PublicKey) -> FiguresFile:
    """Keep a school's signed figures; refused whole (Russian message) unless the file is
    intact, signed by the trusted key, and of a school this server does not keep itself."""
    try:
        signed = msgspec.json.decode(data, type=SignedFile)
    except msgspec.DecodeError:
        raise DistrictFileError("Это не файл сводных показателей школы.") from None
    if signed.fingerprint != fingerprint(trusted):
        raise DistrictFileError(
            f"Файл подписан другим ключом ({signed.fingerprint}), а не ключом школы "
            f"({fingerprint(trusted)})."
        )
    payload = signed.payload.encode()
    if not verify_signature(trusted, signed.signature, payload):
        raise DistrictFileError("Подпись не сходится: файл изменён после подписания.")
    try:
        figures = msgspec.json.decode(payload, type=FiguresFile)
    except msgspec.DecodeError:
        raise DistrictFileError("Содержимое файла не читается.") from None
    if figures.format != FORMAT:
        raise DistrictFileError(f"Неизвестный формат файла: {figures.format}.")
    if conn.execute("SELECT 1 FROM schools WHERE id = ?", (figures.school_id,)).fetchone():
        raise DistrictFileError(
            f"Школа «{figures.school_id}» ведётся на этом сервере: её показатели уже здесь."
        )
    with transaction(conn):
        conn.execute(
            "INSERT INTO district_imports (school_id, name, district, date_from, date_to, "
            "created, grades, fingerprint, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(school_id) DO UPDATE SET name = excluded.name, "
            "district = excluded.district, date_from = excluded.date_from, "
            "date_to = excluded.date_to, created = excluded.created, grades = excluded.grades, "
            "fingerprint = excluded.fingerprint, imported_at = excluded.imported_at",
            (
                figures.school_id,
                figures.school_name,
                figures.district,
                figures.date_from.isoformat() if figures.date_from else None,
                figures.date_to.isoformat() if figures.date_to else None,
                figures.created.isoformat(),
                msgspec.json.encode(figures.grades).decode(),
                signed.fingerprint,
                time.time(),
            ),
        )
    return figures
