"""The transfer extract as a file (001 §4.7): what a school hands over when a pupil moves, so
the receiving school's server can read it. Versioned JSON; the extract is kept as the exact
bytes that were signed, so a signature checks whatever reads it.

    {"format": "zhurnal-transfer-extract", "version": 1,
     "extract": {...TransferExtract...},
     "key_fingerprint": "…", "signature": "<base64 Ed25519 over the extract's bytes>"}
"""

from __future__ import annotations

import datetime as dt
from typing import Final, Literal

import msgspec

from shared.columns import result_text
from shared.model import MarkSpecial
from shared.scales import mark_text

FORMAT: Final = "zhurnal-transfer-extract"
VERSION = 1


class ExtractPupil(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    last_name: str
    first_name: str
    patronymic: str = ""
    birth_date: dt.date | None = None


class ExtractMark(msgspec.Struct, frozen=True, kw_only=True):
    """A current mark: the lesson's date, the subject, the mark, the kind of work.

    Issue 16 added `modifier` («4+») and `special` (зач/незач, `value` 0) with defaults; an
    older reader ignores them."""

    subject: str
    date: dt.date
    value: int
    work_kind: str = ""  # Russian words, "" for a usual lesson
    weight: int = 1
    modifier: str = ""  # "+" | "-"
    special: str = ""  # pass | fail (shared.model.MarkSpecial)

    @property
    def text(self) -> str:
        """The mark as printed: «5», «4+», «зач»."""
        return mark_text(self.value, self.modifier, MarkSpecial(self.special))


class ExtractAttestation(msgspec.Struct, frozen=True, kw_only=True):
    """An attestation result: a period (quarter, half), year, exam or final mark.

    Issue 16 added `special` and `column` with defaults: a plain period or year mark is the
    same JSON as before, and an older reader ignores the new fields (it then reads a special
    value as 0: `value` is 0 for «н/а», «осв.», «зач», «незач»)."""

    subject: str
    period: str  # the column's title: «1 четверть», «Год», «Экз.», «Итог»
    period_kind: str  # quarter | half | year
    value: int
    special: str = ""  # pass | fail | na | exempt (shared.model.MarkSpecial)
    column: str = ""  # "" a period's or the year's mark; exam | final

    @property
    def text(self) -> str:
        """The mark as printed: «5», «зач», «незач», «н/а», «осв.»."""
        return result_text(self.value, self.special)


class TransferExtract(msgspec.Struct, frozen=True, kw_only=True):
    school: str
    school_id: str
    year: str  # «2026/2027»
    year_id: str
    pupil: ExtractPupil
    class_name: str
    date_from: dt.date
    date_to: dt.date
    issued: dt.date
    marks: tuple[ExtractMark, ...] = ()
    attestation: tuple[ExtractAttestation, ...] = ()


class ExtractFile(msgspec.Struct, frozen=True, kw_only=True):
    format: Literal["zhurnal-transfer-extract"]
    version: int
    extract: msgspec.Raw  # the signed bytes, decoded separately
    key_fingerprint: str = ""
    signature: str = ""


class ExtractFileError(ValueError):
    """Not a transfer extract, or one this version cannot read; `message_ru` for people."""

    def __init__(self, message_ru: str):
        super().__init__(message_ru)
        self.message_ru = message_ru


_encoder = msgspec.json.Encoder()


def extract_bytes(extract: TransferExtract) -> bytes:
    return _encoder.encode(extract)


def encode_file(extract: TransferExtract, *, fingerprint: str = "", signature: str = "") -> bytes:
    body = ExtractFile(
        format=FORMAT,
        version=VERSION,
        extract=msgspec.Raw(extract_bytes(extract)),
        key_fingerprint=fingerprint,
        signature=signature,
    )
    return _encoder.encode(body)  # compact: reformatting would change the signed bytes


def decode_file(raw: bytes) -> tuple[ExtractFile, TransferExtract]:
    """The envelope and the extract; ExtractFileError with a Russian message on bad input."""
    try:
        envelope = msgspec.json.decode(raw, type=ExtractFile)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ExtractFileError(f"Это не файл выписки при переводе: {exc}") from exc
    if envelope.version > VERSION:
        raise ExtractFileError(
            f"Выписка версии {envelope.version}; эта программа читает версии до {VERSION}."
        )
    try:
        extract = msgspec.json.decode(bytes(envelope.extract), type=TransferExtract)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ExtractFileError(f"Выписка повреждена: {exc}") from exc
    return envelope, extract
