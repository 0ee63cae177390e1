"""An achievement typed while the link is dead reaches a real server later, and its diploma
scan crosses a link that cuts in the middle of the upload: the next sync resumes from the
byte the server holds, not from the start, and the server keeps the file whole and checked.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import httpx
import pytest

from client_tui.services.api import TemporaryFailure
from client_tui.services.portfolio import CHUNK_BYTES, AchievementForm
from scripts.badlink.proxy import PERFECT, FaultProxy, LinkProfile
from shared.model import AchievementKind, AchievementResult
from tests.factories import CLASS_5

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

DEAD = LinkProfile(reset_probability=1.0)
SCAN = b"%PDF-1.6\n" + bytes(range(256)) * 1200 + b"\n%%EOF\n"  # ~300 KB: five chunks
CUT_AFTER = 2 * CHUNK_BYTES + 20_000  # bytes of the upload that get through: inside chunk 3


class Uploads:
    """Records the Content-Range of every attachment PUT the laptop sends."""

    def __init__(self) -> None:
        self.ranges: list[str] = []

    def on_request(self, request: httpx.Request) -> None:
        if request.method == "PUT" and "/attachments/" in request.url.path:
            self.ranges.append(request.headers["Content-Range"])


def test_an_offline_achievement_and_its_scan_survive_a_cut_upload(
    live_server, laptops, tmp_path
) -> None:
    scan = tmp_path / "диплом.pdf"
    scan.write_bytes(SCAN)
    sha = hashlib.sha256(SCAN).hexdigest()
    uploads = Uploads()
    with FaultProxy(live_server.port, PERFECT, seed=7) as proxy:
        laptop = laptops("math", proxy.url, on_request=uploads.on_request)

        # 1. No link: the achievement is typed and kept on the laptop with its scan.
        proxy.set_profile(DEAD)
        event = laptop.portfolio.add(
            CLASS_5,
            AchievementForm(
                student_id="s-3",
                kind=AchievementKind.CONTEST,
                title="Конкурс чтецов",
                result=AchievementResult.WINNER,
                date=dt.date(2026, 10, 20),
                file=str(scan),
            ),
        )
        for _ in range(2):
            with pytest.raises(TemporaryFailure):
                laptop.sync()
        assert laptop.status().pending == 1
        (kept,) = laptop.store.attachments()
        assert (kept["state"], kept["sent"]) == ("waiting", 0)

        # 2. The link is back but cuts the upload in the middle of its third chunk.
        proxy.set_profile(LinkProfile(cut_request_after_bytes=CUT_AFTER, max_cuts=1))
        proxy.reset_stats()
        with pytest.raises(TemporaryFailure):
            laptop.sync()
        assert proxy.stats.cuts == 1
        with live_server.db_conn() as conn:
            (row,) = conn.execute("SELECT id, attachment FROM achievements").fetchall()
            stored = conn.execute(
                "SELECT received, completed_at FROM attachments WHERE sha256 = ?", (sha,)
            ).fetchone()
        assert row["id"] == event.achievement_id and sha in row["attachment"]
        assert stored["completed_at"] is None and 0 < stored["received"] < len(SCAN)
        held = stored["received"]
        assert held % CHUNK_BYTES == 0  # whole chunks only: a cut chunk stores nothing
        (kept,) = laptop.store.attachments()
        assert (kept["state"], kept["sent"]) == ("waiting", held)

        # 3. The next sync resumes from what the server holds and completes the file.
        sent_before = len(uploads.ranges)
        report = laptop.sync()
        assert report.complete and report.files_uploaded == 1
        resumed = uploads.ranges[sent_before]
        assert resumed == f"bytes {held}-{held + CHUNK_BYTES - 1}/{len(SCAN)}"
        assert not any(r.startswith("bytes 0-") for r in uploads.ranges[sent_before:])

    with live_server.db_conn() as conn:
        stored = conn.execute(
            "SELECT body, completed_at FROM attachments WHERE sha256 = ?", (sha,)
        ).fetchone()
    assert stored["completed_at"] is not None and bytes(stored["body"]) == SCAN
    (kept,) = laptop.store.attachments()
    assert kept["state"] == "uploaded" and laptop.status().pending == 0
