"""The SQL the portfolio pages read besides the achievements: one achievement, its document."""

from __future__ import annotations

import sqlite3

import msgspec

from server.storage import portfolio
from shared.model import Achievement


class StoredDocument(msgspec.Struct, frozen=True, kw_only=True):
    sha256: str
    media_type: str
    size: int
    body: bytes


def achievement(conn: sqlite3.Connection, achievement_id: str) -> Achievement | None:
    row = conn.execute(
        "SELECT student_id FROM achievements WHERE id = ?", (achievement_id,)
    ).fetchone()
    if row is None:
        return None
    found = portfolio.achievements(conn, student_ids=[row["student_id"]])
    return next((a for a in found if a.id == achievement_id), None)


def complete_document(conn: sqlite3.Connection, sha256: str) -> StoredDocument | None:
    """The attachment if its upload completed (every byte received and checked), else None."""
    row = conn.execute(
        "SELECT sha256, media_type, size, body FROM attachments "
        "WHERE sha256 = ? AND completed_at IS NOT NULL AND body IS NOT NULL",
        (sha256,),
    ).fetchone()
    return StoredDocument(**dict(row)) if row else None
