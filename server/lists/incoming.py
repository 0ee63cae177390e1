"""An arriving pupil's transfer extract from another school (the signed JSON `transfer-show`
reads) taken into their personal file: the marks keep their source — the school, its year and
class, the signature's key — and are never counted as marks this school gave (002 §2.9.3)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from server.archive.keys import ArchiveKeyError
from server.errors import BadRequest
from server.storage import lists as storage
from server.storage.db import transaction
from server.web.transfer import check_signature
from shared.transfer import ExtractFileError, decode_file


def import_extract(
    conn: sqlite3.Connection,
    data: bytes,
    *,
    student_id: str,
    login: str,
    public_key: Path | None = None,
    unsigned_ok: bool = False,
) -> int:
    """Keep the extract's marks for the pupil; returns how many were new. The pupil must be
    the one the extract names (name and birth date), and the signature must check against the
    sending school's public key unless `unsigned_ok` (a paper copy was compared by a person)."""
    try:
        envelope, extract = decode_file(data)
    except ExtractFileError as exc:
        raise BadRequest(exc.message_ru) from exc
    pupil = conn.execute("SELECT * FROM students WHERE id = ?", (student_id,)).fetchone()
    if pupil is None:
        raise BadRequest("Такого ученика нет: сначала загрузите его в список учеников.")
    named = extract.pupil
    same = (pupil["last_name"], pupil["first_name"]) == (named.last_name, named.first_name) and (
        named.birth_date is None or pupil["birth_date"] == named.birth_date.isoformat()
    )
    if not same:
        raise BadRequest(
            f"Выписка на ученика {named.last_name} {named.first_name}, а выбран "
            f"{pupil['last_name']} {pupil['first_name']}: проверьте, чья это выписка."
        )
    if public_key is not None:
        try:
            good = bool(envelope.signature) and check_signature(envelope, public_key)
        except ArchiveKeyError as exc:
            raise BadRequest(exc.message_ru) from exc
        if not good:
            raise BadRequest("Подпись выписки неверна: файл изменён или подписан другим ключом.")
        signed_by = envelope.key_fingerprint
    elif unsigned_ok:
        signed_by = ""
    else:
        raise BadRequest(
            "Укажите открытый ключ школы, выдавшей выписку, или подтвердите, что сверили её "
            "с бумажной, подписанной директором."
        )
    now = time.time()
    common = (extract.school, extract.school_id, extract.year, extract.class_name)
    rows = [
        (
            student_id,
            *common,
            a.subject,
            "attestation",
            a.period,
            a.value,
            signed_by,
            login,
            now,
            a.special,
        )
        for a in extract.attestation
    ]
    rows += [
        (student_id, *common, m.subject, "current", f"{m.date.isoformat()}#{n}", m.value,
         signed_by, login, now, m.special)
        for n, m in enumerate(extract.marks)
    ]  # fmt: skip
    with transaction(conn):
        return storage.add_incoming(conn, rows)
