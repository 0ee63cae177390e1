"""Holes an insider could use (issue 12): disk filling, another school's scans and
quarantine, self-granted corrections, any content type on the sync endpoint.

Each test reproduces the attack as it was reported and asserts the refusal and that nothing
was stored or changed; the disk tests flood the server and bound the database's growth.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import time
import zlib
from pathlib import Path

import msgspec
import pytest

from server import housekeeping
from server.archive.closing import close_year, grant_correction
from server.attachments.controller import DEVICE_PARTIAL_QUOTA
from server.errors import AccessDenied, BadRequest
from server.storage import journals as journal_storage
from server.storage.db import connect, transaction
from shared import wire
from shared.portfolio import MAX_ATTACHMENT_BYTES
from tests.factories import MATH_5, YEAR
from tests.server.portfolio_kit import (
    achievement,
    attachment,
    push_achievement,
    upload,
)
from tests.server.school_kit import (
    SchoolServer,
    Writer,
    assert_russian_error,
)
from tests.two_schools import two_schools_copy

Outcome = wire.Outcome


def database_bytes(server: SchoolServer) -> int:
    """The database's size on disk once the write-ahead log is folded in."""
    with server.db() as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(
        os.path.getsize(p)
        for p in (server.config.database, Path(f"{server.config.database}-wal"))
        if p.exists()
    )


def garbage_push(size: int, seed: int) -> wire.JournalPush:
    """A push whose update is `size` bytes the server cannot read (refused whole)."""
    noise = random.Random(seed).randbytes(size)  # incompressible, as a real update nearly is
    return wire.JournalPush(journal_id=MATH_5, state_vector=b"\x00", update=b"\xff" + noise)


# ----------------------------------------------------------------- hole 3: disk filling


def test_a_zip_bomb_is_refused_before_it_inflates(server: SchoolServer) -> None:
    """A 61 KB request that inflated to 60 MB was stored whole in quarantine."""
    update = b"\x00" * (60 * 1024 * 1024)
    request = wire.SyncRequest(
        journals=(wire.JournalPush(journal_id=MATH_5, state_vector=b"\x00", update=update),)
    )
    body = zlib.compress(msgspec.msgpack.encode(request), 9)
    assert len(body) < 100 * 1024
    before = database_bytes(server)
    response = server.post_sync("math", body)
    assert "слишком велико" in assert_russian_error(response, 400)["message"]
    assert server.quarantine() == []
    assert database_bytes(server) - before < 64 * 1024


def test_quarantine_keeps_a_bounded_prefix_and_the_digest(server: SchoolServer) -> None:
    push = garbage_push(2 * 1024 * 1024, 1)
    reply = server.push("math", push)
    assert (reply.outcome, reply.rule) == (Outcome.REFUSED, "malformed_update")
    (row,) = server.quarantine()
    assert len(row["body"]) == journal_storage.QUARANTINE_PREFIX_BYTES
    assert bytes(row["body"]) == push.update[: journal_storage.QUARANTINE_PREFIX_BYTES]
    assert row["body_sha256"] == hashlib.sha256(push.update).hexdigest()
    assert row["body_size"] == len(push.update)


def test_a_flood_of_refused_updates_grows_the_database_by_the_quota_at_most(
    server: SchoolServer,
) -> None:
    """150 refused pushes of 256 KB each (38 MB sent): the device keeps its newest 100 rows
    of at most 16 KB each."""
    before = database_bytes(server)
    for n in range(150):
        reply = server.push("math", garbage_push(256 * 1024, n))
        assert reply.outcome is Outcome.REFUSED
    rows = server.quarantine()
    assert len(rows) == journal_storage.QUARANTINE_ROWS_PER_DEVICE
    quota = journal_storage.QUARANTINE_ROWS_PER_DEVICE * journal_storage.QUARANTINE_PREFIX_BYTES
    grown = database_bytes(server) - before
    assert grown <= quota * 1.5, (grown, quota)


def cite_files(server: SchoolServer, count: int) -> list[bytes]:
    """`count` different scans, each cited by an accepted portfolio entry of math's."""
    math = Writer(server.tokens["math"])
    bodies = [b"%PDF-1.4\n" + os.urandom(64) for _ in range(count)]
    events = [
        achievement(math, achievement_id=f"A{n}", attachment=attachment(body))
        for n, body in enumerate(bodies)
    ]
    assert push_achievement(server, "math", *events).outcome is Outcome.ACCEPTED
    return bodies


def test_an_upload_reserves_nothing_before_the_bytes_arrive(server: SchoolServer) -> None:
    """Five 16-byte PUTs declaring 10 MB each grew the database by 63 MB."""
    bodies = cite_files(server, 5)
    before = database_bytes(server)
    for body in bodies:
        sha = hashlib.sha256(body).hexdigest()
        first = upload(server, "math", body[:16], sha=sha, total=MAX_ATTACHMENT_BYTES)
        assert first.status_code == 200, first.text
        assert first.json() == {"received": 16, "complete": False}
    assert database_bytes(server) - before < 256 * 1024
    assert sum(r["n"] for r in server.rows("SELECT length(body) AS n FROM attachments")) == 80


def test_unfinished_uploads_have_a_quota_per_device(server: SchoolServer) -> None:
    bodies = cite_files(server, 3)
    chunk = 1024 * 1024
    sent = 0
    refused = None
    for body in bodies:  # each declared 10 MB, sent in 1 MB chunks, never finished
        sha = hashlib.sha256(body).hexdigest()
        data = body + b"\0" * (MAX_ATTACHMENT_BYTES - len(body))
        for start in range(0, MAX_ATTACHMENT_BYTES - chunk, chunk):  # all but the last
            response = upload(
                server,
                "math",
                data[start : start + chunk],
                sha=sha,
                start=start,
                total=MAX_ATTACHMENT_BYTES,
            )
            if response.status_code != 200:
                refused = response
                break
            sent += min(chunk, MAX_ATTACHMENT_BYTES - start)
        if refused is not None:
            break
    assert refused is not None
    assert assert_russian_error(refused, 413)["error"] == "upload_quota"
    held = server.rows("SELECT sum(received) AS n FROM attachments WHERE completed_at IS NULL")
    assert held[0]["n"] == sent <= DEVICE_PARTIAL_QUOTA


def test_old_unfinished_uploads_and_quarantine_are_cleaned_on_schedule(
    server: SchoolServer,
) -> None:
    bodies = cite_files(server, 1)
    sha = hashlib.sha256(bodies[0]).hexdigest()
    assert upload(server, "math", bodies[0][:16], sha=sha, total=1000).status_code == 200
    server.push("math", garbage_push(100, 7))
    now = time.time()
    with server.db() as conn:
        housekeeping.run_due(conn, now)  # the sync and the upload above may have run it
        assert not housekeeping.run_due(conn, now + 60)  # once an hour at most
        assert server.count("attachments") == 1 and len(server.quarantine()) == 1
        day_later = now + housekeeping.PARTIAL_UPLOAD_SECONDS + housekeeping.EVERY_SECONDS
        assert housekeeping.run_due(conn, day_later)
        assert server.count("attachments") == 0
        assert len(server.quarantine()) == 1  # kept half a year for a person to look at
        assert housekeeping.run_due(conn, now + housekeeping.QUARANTINE_SECONDS + 7200)
        assert server.quarantine() == []


# ----------------------------------------------------------------- hole 5 and hole 7: schools


@pytest.fixture
def two(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory):
    from litestar.testing import TestClient

    from server.app import create_app

    config = two_schools_copy(tmp_path_factory.mktemp("two-holes"), tmp_path / "two.sqlite")
    with TestClient(create_app(config), base_url="http://testserver.local") as client:
        yield config, client


def api_token(client, login: str) -> dict[str, str]:
    from tests.factories import PASSWORD

    response = client.post(
        "/api/v1/auth/login", json={"login": login, "password": PASSWORD, "device_name": "x"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_another_schools_diploma_scan_is_refused_over_the_api(two) -> None:
    """`GET /api/v1/attachments/{sha}` served any school's scan to any director."""
    config, client = two
    scan = b"%PDF-1.4 school B" + b"7" * 200
    sha = hashlib.sha256(scan).hexdigest()
    conn = connect(config.database)
    with transaction(conn):
        conn.execute(
            "INSERT INTO achievements (id, student_id, year_id, kind, title, level, result, "
            "date, attachment, author) VALUES ('B-A1', 'b-s-1', 'b-2026-2027', 'olympiad', "
            "'Олимпиада', 'school', 'winner', '2026-10-01', ?, 'b-t-math')",
            (msgspec.json.encode(attachment(scan)).decode(),),
        )
        conn.execute(
            "INSERT INTO attachments (sha256, media_type, size, received, body, uploaded_by, "
            "created_at, completed_at) VALUES (?, 'application/pdf', ?, ?, ?, 'b-math', 0, 0)",
            (sha, len(scan), len(scan), scan),
        )
    conn.close()
    url = f"/api/v1/attachments/{sha}"
    for login in ("director", "deputy", "records"):  # school A's
        refused = client.get(url, headers=api_token(client, login))
        assert assert_russian_error(refused, 403)["error"] == "access_denied"
    assert client.get(url, headers=api_token(client, "b-deputy")).content == scan


def test_the_quarantine_listing_shows_only_ones_own_school(two) -> None:
    _, client = two
    bad = wire.encode(wire.SyncRequest(journals=(garbage_push(64, 3),)))
    sent = client.post(
        "/api/v1/sync",
        content=bad,
        headers={"Content-Type": wire.CONTENT_TYPE} | api_token(client, "b-math"),
    )
    assert sent.status_code == 200
    listing_b = client.get("/api/v1/quarantine", headers=api_token(client, "b-deputy")).json()
    assert [r["login"] for r in listing_b] == ["b-math"]
    listing_a = client.get("/api/v1/quarantine", headers=api_token(client, "deputy")).json()
    assert listing_a == []


# ----------------------------------------------------------------- hole 7: the rest


def test_a_deputy_cannot_grant_herself_corrections(server: SchoolServer) -> None:
    after = dt.datetime(2027, 6, 20, 12, tzinfo=dt.UTC).timestamp()
    with server.db() as conn:
        close_year(conn, login="records", year_id=YEAR, now=after)
        with pytest.raises(AccessDenied, match="себе"):
            grant_correction(
                conn, login="deputy", journal_id=MATH_5, person_id="t-deputy", reason="сама"
            )
        assert server.count("correction_grants") == 0
        # the director grants the deputy; a second grant while one is in force is refused
        grant_correction(
            conn, login="director", journal_id=MATH_5, person_id="t-deputy", reason="записка"
        )
        with pytest.raises(BadRequest, match="уже есть"):
            grant_correction(
                conn, login="director", journal_id=MATH_5, person_id="t-deputy", reason="ещё"
            )
    assert server.count("correction_grants") == 1
    response = server.client.post(
        f"/api/v1/journals/{MATH_5}/corrections",
        json={"person_id": "t-deputy", "reason": "себе"},
        headers=server.headers("deputy"),
    )
    assert_russian_error(response, 403)
    assert server.count("correction_grants") == 1


def test_a_grant_in_an_open_year_is_refused(server: SchoolServer) -> None:
    response = server.client.post(
        f"/api/v1/journals/{MATH_5}/corrections",
        json={"person_id": "t-math", "reason": "просто так"},
        headers=server.headers("deputy"),
    )
    assert "не закрыт" in assert_russian_error(response, 400)["message"]
    assert server.count("correction_grants") == 0


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "application/octet-stream", ""]
)
def test_the_sync_endpoint_requires_its_content_type(
    server: SchoolServer, content_type: str
) -> None:
    before = server.snapshot()
    response = server.client.post(
        "/api/v1/sync",
        content=wire.encode(wire.SyncRequest()),
        headers={"Content-Type": content_type} | server.headers("math"),
    )
    assert assert_russian_error(response, 415)["error"] == "bad_sync_type"
    assert server.snapshot() == before
