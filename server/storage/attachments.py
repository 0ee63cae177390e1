"""The SQL behind proof documents (`attachments`): a file is received in chunks appended to its
blob as they arrive (nothing is reserved for bytes not yet sent), and counts only once
`completed_at` is set (its checksum and type checked)."""

from __future__ import annotations

import sqlite3

from shared.model import PORTFOLIO_SUBJECT


def status(conn: sqlite3.Connection, sha256: str) -> sqlite3.Row | None:
    """sha256, media_type, size, received, completed_at (no body) or None."""
    return conn.execute(
        "SELECT rowid, sha256, media_type, size, received, uploaded_by, completed_at "
        "FROM attachments WHERE sha256 = ?",
        (sha256,),
    ).fetchone()


def begin(
    conn: sqlite3.Connection,
    sha256: str,
    media_type: str,
    size: int,
    uploader: str,
    now: float,
    *,
    device_id: str | None = None,
    school_id: str | None = None,
) -> None:
    """Start receiving a file of `size` bytes: an empty blob, which grows chunk by chunk."""
    conn.execute(
        "INSERT INTO attachments (sha256, media_type, size, received, body, uploaded_by, "
        "created_at, device_id, school_id) VALUES (?, ?, ?, 0, x'', ?, ?, ?, ?)",
        (sha256, media_type, size, uploader, now, device_id, school_id),
    )


def write_chunk(conn: sqlite3.Connection, sha256: str, offset: int, data: bytes) -> int:
    """Append `data` at `offset` (which must be what was received so far); the new count."""
    row = status(conn, sha256)
    assert row is not None and row["received"] == offset and offset + len(data) <= row["size"]
    received = offset + len(data)
    conn.execute(
        "UPDATE attachments SET body = CAST(body || ? AS BLOB), received = ? WHERE sha256 = ?",
        (data, received, sha256),
    )
    return received


def partial_bytes(
    conn: sqlite3.Connection, *, device_id: str, school_id: str | None
) -> tuple[int, int]:
    """Bytes held for unfinished uploads: (of this device, of this school)."""
    row = conn.execute(
        "SELECT COALESCE(sum(CASE WHEN device_id = ? THEN received END), 0) AS device, "
        "COALESCE(sum(CASE WHEN school_id IS ? THEN received END), 0) AS school "
        "FROM attachments WHERE completed_at IS NULL",
        (device_id, school_id),
    ).fetchone()
    return row["device"], row["school"]


def forget_partial_before(conn: sqlite3.Connection, moment: float) -> int:
    """Drop uploads started before `moment` and never finished."""
    return conn.execute(
        "DELETE FROM attachments WHERE completed_at IS NULL AND created_at < ?", (moment,)
    ).rowcount


def body(conn: sqlite3.Connection, sha256: str) -> bytes:
    row = conn.execute("SELECT body FROM attachments WHERE sha256 = ?", (sha256,)).fetchone()
    return bytes(row["body"]) if row else b""


def complete(conn: sqlite3.Connection, sha256: str, now: float) -> None:
    conn.execute("UPDATE attachments SET completed_at = ? WHERE sha256 = ?", (now, sha256))


def discard(conn: sqlite3.Connection, sha256: str) -> None:
    conn.execute("DELETE FROM attachments WHERE sha256 = ?", (sha256,))


def portfolios_citing(conn: sqlite3.Connection, sha256: str) -> set[str]:
    """The portfolio documents holding an achievement entry (not refused) that names this file
    as its proof: who may write one of them may upload the file."""
    rows = conn.execute(
        "SELECT DISTINCT journal_id FROM events WHERE kind = 'achievement' "
        "AND status != 'refused' AND json_extract(body, '$.attachment.sha256') = ? "
        "AND journal_id LIKE ?",
        (sha256, f"%~{PORTFOLIO_SUBJECT}"),
    )
    return {r["journal_id"] for r in rows.fetchall()}


def students_citing(conn: sqlite3.Connection, sha256: str) -> set[str]:
    """The pupils whose current portfolio rows name this file as their proof."""
    rows = conn.execute(
        "SELECT DISTINCT student_id FROM achievements "
        "WHERE json_extract(attachment, '$.sha256') = ?",
        (sha256,),
    )
    return {r["student_id"] for r in rows.fetchall()}
