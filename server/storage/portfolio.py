"""The SQL behind the portfolio: consolidated achievements (the sync writes them, pages read)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import msgspec

from shared.model import Achievement, Attachment

_attachment = msgspec.json.Encoder()
_attachment_decoder = msgspec.json.Decoder(Attachment)


def save(conn: sqlite3.Connection, achievement: Achievement) -> None:
    """Insert or replace one achievement row (the newest live entry of its cell)."""
    row = msgspec.to_builtins(achievement)
    row["attachment"] = (
        _attachment.encode(achievement.attachment).decode() if achievement.attachment else None
    )
    row["external"] = int(achievement.external)
    row["family_consent"] = int(achievement.family_consent)
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    conn.execute(
        f"INSERT OR REPLACE INTO achievements ({columns}) VALUES ({marks})", tuple(row.values())
    )


def remove(conn: sqlite3.Connection, achievement_id: str) -> None:
    """Drop a retracted or refused achievement from the consolidated rows."""
    conn.execute("DELETE FROM achievements WHERE id = ?", (achievement_id,))


def achievements(
    conn: sqlite3.Connection,
    *,
    student_ids: Iterable[str] | None = None,
    year_id: str | None = None,
) -> list[Achievement]:
    """Achievements, newest first, of the given pupils (all when None) and year (all when None)."""
    where, params = [], []
    if student_ids is not None:
        ids = list(student_ids)
        if not ids:
            return []
        where.append(f"student_id IN ({', '.join('?' * len(ids))})")
        params.extend(ids)
    if year_id is not None:
        where.append("year_id = ?")
        params.append(year_id)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(
        f"SELECT * FROM achievements {clause} ORDER BY date DESC, id", params
    ).fetchall()
    result = []
    for row in rows:
        data = dict(row)
        data["external"] = bool(data["external"])
        data["family_consent"] = bool(data["family_consent"])
        raw = data.pop("attachment")
        data["attachment"] = _attachment_decoder.decode(raw) if raw else None
        result.append(msgspec.convert(data, Achievement, strict=False))
    return result
