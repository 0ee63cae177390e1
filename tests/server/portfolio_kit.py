"""Writing achievements and their documents the way a laptop does, for the server's tests."""

from __future__ import annotations

import datetime as dt
import hashlib

from shared import wire
from shared.model import (
    AchievementKind,
    AchievementRecorded,
    AchievementResult,
    Attachment,
    portfolio_id,
)
from tests.factories import CLASS_5, YEAR
from tests.server.school_kit import Replica, SchoolServer, Writer

PORTFOLIO_5 = portfolio_id(YEAR, CLASS_5)
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 200 + b"\n%%EOF\n"
PDF_SHA = hashlib.sha256(PDF).hexdigest()


def attachment(body: bytes = PDF, media_type: str = "application/pdf") -> Attachment:
    return Attachment(
        sha256=hashlib.sha256(body).hexdigest(),
        name="диплом.pdf",
        media_type=media_type,
        size=len(body),
    )


def achievement(writer: Writer, student_id: str = "s-1", **fields) -> AchievementRecorded:
    values = {
        "achievement_id": "A1",
        "student_id": student_id,
        "achievement_kind": AchievementKind.OLYMPIAD,
        "title": "Школьный этап ВсОШ",
        "result": AchievementResult.WINNER,
        "date": dt.date(2026, 10, 1),
    } | fields
    base = {
        k: values.pop(k) for k in ("id", "author", "device", "hlc", "supersedes") if k in values
    }
    return AchievementRecorded(**writer.stamp(base), **values)


def push_achievement(
    server: SchoolServer,
    device: str,
    *events: AchievementRecorded,
    document: str = PORTFOLIO_5,
) -> wire.JournalReply:
    replica = Replica(document)
    replica.add(*events)
    return server.push(device, replica.push())


def upload(
    server: SchoolServer,
    device: str,
    body: bytes,
    *,
    sha: str | None = None,
    start: int = 0,
    total: int | None = None,
    media_type: str = "application/pdf",
):
    sha = sha or hashlib.sha256(body).hexdigest()
    total = len(body) if total is None else total
    return server.client.put(
        f"/api/v1/attachments/{sha}",
        content=body,
        headers=server.headers(device)
        | {
            "Content-Type": media_type,
            "Content-Range": f"bytes {start}-{start + len(body) - 1}/{total}",
        },
    )
