"""The server's side of the portfolio: who may push achievements, the rules it applies, the
consolidated rows, and the resumable, checked upload of proof documents."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pycrdt
import pytest

from server.reports import dataset
from server.storage import directory as directory_storage
from server.storage import web as web_storage
from server.storage.db import transaction
from shared import wire
from shared.journal import EVENTS_ROOT
from shared.model import (
    Membership,
    Retracted,
    SchoolClass,
    Student,
    encode_event,
    is_portfolio_id,
    portfolio_id,
)
from shared.portfolio import MAX_ATTACHMENT_BYTES
from tests.factories import MATH_5, YEAR
from tests.server.portfolio_kit import (
    PDF,
    PORTFOLIO_5,
    achievement,
    attachment,
    push_achievement,
    upload,
)
from tests.server.school_kit import (
    Replica,
    SchoolServer,
    Writer,
    assert_russian_error,
    is_russian,
    template,
)

Outcome = wire.Outcome
CLASS_7 = f"{YEAR}-7"
YEAR_START = dt.date(2026, 9, 1)


@pytest.fixture
def server(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchoolServer]:
    db, tokens = template(tmp_path_factory.getbasetemp())
    with SchoolServer(db, tokens, tmp_path) as school:
        yield school


def writer(server: SchoolServer, device: str) -> Writer:
    return Writer(server.tokens[device])


def rows(server: SchoolServer) -> list[dict]:
    return server.rows("SELECT * FROM achievements ORDER BY id")


def refusal_rules(server: SchoolServer, document: str) -> list[str]:
    found = server.rows(
        "SELECT body FROM events WHERE journal_id = ? AND kind = 'refusal'", [document]
    )
    return [json.loads(r["body"])["rule"] for r in found]


# ----------------------------------------------------------------- who may push


def test_a_teacher_not_teaching_the_class_is_refused_whole(server: SchoolServer) -> None:
    """Class 7 has no lessons of math's and math does not lead it: its portfolio is not hers."""
    with server.db() as conn, transaction(conn):
        directory_storage.upsert(
            conn,
            [
                SchoolClass(id=CLASS_7, year_id=YEAR, grade=7),
                Student(id="s-7", last_name="Жуков", first_name="Захар"),
                Membership(student_id="s-7", class_id=CLASS_7, starts=YEAR_START),
            ],
        )
    document = portfolio_id(YEAR, CLASS_7)
    reply = push_achievement(
        server, "math", achievement(writer(server, "math"), "s-7"), document=document
    )
    assert (reply.outcome, reply.rule) == (Outcome.REFUSED, "no_access")
    assert is_russian(reply.message_ru) and "портфолио" in reply.message_ru
    assert rows(server) == [] and server.count("events", document) == 0
    assert server.quarantine()[-1]["journal_id"] == document
    # the deputy keeps every class's portfolio
    deputy = push_achievement(
        server, "deputy", achievement(writer(server, "deputy"), "s-7"), document=document
    )
    assert deputy.outcome is Outcome.ACCEPTED and [r["student_id"] for r in rows(server)] == ["s-7"]


@pytest.mark.parametrize("device", ["records", "admin"])
def test_staff_who_keep_no_portfolio_are_refused(server: SchoolServer, device: str) -> None:
    event = achievement(writer(server, device))
    replica = Replica(PORTFOLIO_5)
    replica.add(event)
    response = server.post_sync(device, wire.encode(wire.SyncRequest(journals=(replica.push(),))))
    if response.status_code == 403:  # the sysadmin may not sync at all
        assert_russian_error(response, 403)
    else:
        (reply,) = wire.decode(response.content).journals
        assert (reply.outcome, reply.rule) == (Outcome.REFUSED, "no_access")
    assert rows(server) == []


@pytest.mark.parametrize("device", ["parent", "pupil"])
def test_families_never_push_or_receive_the_portfolio_document(
    server: SchoolServer, device: str
) -> None:
    replica = Replica(PORTFOLIO_5)
    replica.add(achievement(writer(server, device)))
    body = wire.encode(wire.SyncRequest(journals=(replica.push(),)))
    assert_russian_error(server.post_sync(device, body), 403)
    assert rows(server) == []


def test_teachers_receive_the_portfolios_they_keep_and_no_other(server: SchoolServer) -> None:
    push_achievement(server, "math", achievement(writer(server, "math")))
    pull = wire.JournalPush(journal_id=PORTFOLIO_5, state_vector=b"\x00")
    (reply,) = server.sync("rus", pull).journals  # rus teaches russian in 5
    assert reply.outcome is Outcome.UNCHANGED and reply.update
    (refused,) = server.sync("records", pull).journals
    assert refused.outcome is Outcome.REFUSED and not refused.update


# ----------------------------------------------------------------- rules and rows


def test_rules_refuse_with_a_server_refusal_and_no_row(server: SchoolServer) -> None:
    w = writer(server, "math")
    reply = push_achievement(
        server,
        "math",
        achievement(w, "s-5", achievement_id="A-other-class"),  # s-5 is in class 6
        achievement(w, external=True, achievement_id="A-external"),
        achievement(w, achievement_id="A-exe", attachment=attachment(media_type="text/x-msdos")),
        achievement(w, achievement_id="A-ok"),
    )
    assert reply.outcome is Outcome.ACCEPTED
    assert sorted(refusal_rules(server, PORTFOLIO_5)) == [
        "achievement_pupil_in_class",
        "attachment_acceptable",
        "external_needs_family_consent",
    ]
    assert [r["id"] for r in rows(server)] == ["A-ok"]


def test_an_achievement_in_a_subject_journal_is_refused(server: SchoolServer) -> None:
    reply = push_achievement(server, "math", achievement(writer(server, "math")), document=MATH_5)
    assert reply.outcome is Outcome.ACCEPTED
    assert refusal_rules(server, MATH_5) == ["entry_fits_document"]
    assert rows(server) == []


def test_a_score_is_malformed_and_refused_whole(server: SchoolServer) -> None:
    """003 §3.4: no scoring. An event with a score field does not decode: refused whole."""
    event = achievement(writer(server, "math"))
    raw = json.loads(encode_event(event)) | {"score": 10}
    doc = pycrdt.Doc()
    doc.get(EVENTS_ROOT, type=pycrdt.Map)[event.id] = json.dumps(raw, ensure_ascii=False)
    push = wire.JournalPush(
        journal_id=PORTFOLIO_5,
        state_vector=doc.get_state(),
        update=doc.get_update(),
    )
    reply = server.push("math", push)
    assert (reply.outcome, reply.rule) == (Outcome.REFUSED, "malformed_event")
    assert rows(server) == []


def test_correction_and_retraction_rewrite_the_row(server: SchoolServer) -> None:
    w = writer(server, "math")
    first = achievement(w, title="Муниципальный этап")
    replica = Replica(PORTFOLIO_5)
    replica.add(first)
    assert server.push("math", replica.push()).outcome is Outcome.ACCEPTED
    sent = replica.doc.state_vector()
    fixed = achievement(w, title="Региональный этап", supersedes=(first.id,))
    replica.add(fixed)
    assert server.push("math", replica.push(since=sent)).outcome is Outcome.ACCEPTED
    (row,) = rows(server)
    assert (row["title"], row["recorded_at"]) == ("Региональный этап", fixed.hlc)
    sent = replica.doc.state_vector()
    replica.add(Retracted(**w.stamp({}), supersedes=(fixed.id,), reason="ошибка"))
    assert server.push("math", replica.push(since=sent)).outcome is Outcome.ACCEPTED
    assert rows(server) == []


# ----------------------------------------------------------------- documents


def cite(server: SchoolServer, body: bytes = PDF, media_type: str = "application/pdf") -> str:
    """An accepted entry of math's in class 5 naming the file as its proof; the file's sha."""
    event = achievement(writer(server, "math"), attachment=attachment(body, media_type))
    assert push_achievement(server, "math", event).outcome is Outcome.ACCEPTED
    return event.attachment.sha256


def progress(server: SchoolServer, sha: str, device: str = "math") -> tuple[int, str]:
    response = server.client.head(f"/api/v1/attachments/{sha}", headers=server.headers(device))
    assert response.status_code == 200
    return int(response.headers["Upload-Offset"]), response.headers["Upload-Complete"]


def test_a_document_arrives_in_chunks_and_is_kept_once_whole(server: SchoolServer) -> None:
    sha = cite(server)
    assert progress(server, sha) == (0, "0")
    half = len(PDF) // 2
    first = upload(server, "math", PDF[:half], sha=sha, total=len(PDF))
    assert first.status_code == 200 and first.json() == {"received": half, "complete": False}
    assert progress(server, sha) == (half, "0")
    # a chunk that does not continue where the server is: 409, with where it is
    wrong = upload(server, "math", PDF[:10], sha=sha, start=5, total=len(PDF))
    assert assert_russian_error(wrong, 409)["error"] == "offset_mismatch"
    last = upload(server, "math", PDF[half:], sha=sha, start=half, total=len(PDF))
    assert last.json() == {"received": len(PDF), "complete": True}
    assert progress(server, sha) == (len(PDF), "1")
    got = server.client.get(f"/api/v1/attachments/{sha}", headers=server.headers("rus"))
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"].startswith("application/pdf")


def test_a_duplicate_upload_is_idempotent(server: SchoolServer) -> None:
    sha = cite(server)
    assert upload(server, "math", PDF).json()["complete"]
    again = upload(server, "deputy", PDF)  # another keeper sends the same file
    assert again.status_code == 200 and again.json() == {"received": len(PDF), "complete": True}
    (stored,) = server.rows("SELECT sha256, size, uploaded_by FROM attachments")
    assert stored == {"sha256": sha, "size": len(PDF), "uploaded_by": "math"}


def test_a_renamed_executable_is_refused_and_nothing_kept(server: SchoolServer) -> None:
    exe = b"MZ\x90\x00\x03" + b"\x00" * 5000  # a Windows program named диплом.pdf
    cite(server, exe)
    refused = upload(server, "math", exe)
    body = assert_russian_error(refused, 422)
    assert "не является документом" in body["message"]
    assert server.count("attachments") == 0


def test_content_that_lies_about_its_type_at_the_end_is_dropped(server: SchoolServer) -> None:
    """The first chunk looks like a PDF but the whole file's checksum is not what was cited."""
    sha = cite(server)
    forged = PDF[:-1] + b"X"
    half = len(forged) // 2
    assert upload(server, "math", forged[:half], sha=sha, total=len(forged)).status_code == 200
    refused = upload(server, "math", forged[half:], sha=sha, start=half, total=len(forged))
    assert "контрольная сумма" in assert_russian_error(refused, 422)["message"]
    assert server.count("attachments") == 0


def test_a_png_declared_as_pdf_is_refused(server: SchoolServer) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    sha = cite(server, png)
    refused = upload(server, "math", png, sha=sha, media_type="application/pdf")
    assert "PNG" in assert_russian_error(refused, 422)["message"]
    assert server.count("attachments") == 0


def test_size_and_type_limits_are_checked_before_anything_is_kept(server: SchoolServer) -> None:
    sha = cite(server)
    big = upload(server, "math", PDF[:100], sha=sha, total=MAX_ATTACHMENT_BYTES + 1)
    assert "10 МБ" in assert_russian_error(big, 413)["message"]
    word = upload(server, "math", b"PK\x03\x04" + b"0" * 100, sha=sha, media_type="application/zip")
    assert assert_russian_error(word, 415)["error"] == "unsupported_type"
    no_range = server.client.put(
        f"/api/v1/attachments/{sha}", content=PDF, headers=server.headers("math")
    )
    assert_russian_error(no_range, 400)
    assert server.count("attachments") == 0


def test_a_file_no_entry_cites_is_refused(server: SchoolServer) -> None:
    other = b"%PDF-1.4 not cited" + b"0" * 100
    refused = upload(server, "math", other)
    assert "сначала синхронизируйте" in assert_russian_error(refused, 403)["message"]
    assert server.count("attachments") == 0


def test_who_may_download_a_document(server: SchoolServer) -> None:
    sha = cite(server)  # a document of s-1 (class 5, child of p-1)
    assert upload(server, "math", PDF).json()["complete"]
    url = f"/api/v1/attachments/{sha}"
    for device in ("math", "rus", "deputy", "director", "records"):
        assert server.client.get(url, headers=server.headers(device)).content == PDF
    assert_russian_error(server.client.get(url, headers=server.headers("admin")), 403)
    # the family: only with the consent electronic access needs
    assert_russian_error(server.client.get(url, headers=server.headers("parent")), 403)
    with server.db() as conn, transaction(conn):
        web_storage.set_consent(conn, "p-1", "given", "rus", time.time(), "")
    for device in ("parent", "pupil"):
        assert server.client.get(url, headers=server.headers(device)).content == PDF
    logged = server.rows(
        "SELECT login, outcome FROM audit_log WHERE action = 'achievement_document' ORDER BY id"
    )
    assert [(r["login"], r["outcome"]) for r in logged] == [
        *[(d, "allowed") for d in ("math", "rus", "deputy", "director", "records")],
        ("admin", "refused"),
        ("parent", "refused"),
    ]


def test_another_childs_parent_cannot_download(server: SchoolServer) -> None:
    w = writer(server, "math")
    other = b"%PDF-1.5 s-2" + b"1" * 300
    event = achievement(w, "s-2", achievement_id="A-s2", attachment=attachment(other))
    assert push_achievement(server, "math", event).outcome is Outcome.ACCEPTED
    assert upload(server, "math", other).json()["complete"]
    with server.db() as conn, transaction(conn):
        web_storage.set_consent(conn, "p-1", "given", "rus", time.time(), "")
    sha = hashlib.sha256(other).hexdigest()
    refused = server.client.get(f"/api/v1/attachments/{sha}", headers=server.headers("parent"))
    assert assert_russian_error(refused, 403)["error"] == "access_denied"


def test_the_portfolio_is_no_subject_journal_on_the_server(server: SchoolServer) -> None:
    """Journal lists, the directory, reports and the archive all work from the directory's
    journals: a class's portfolio document is never one of them."""
    push_achievement(server, "math", achievement(writer(server, "math")))
    assert server.count("events", PORTFOLIO_5) == 1  # it is stored, as a document
    for device in ("math", "deputy"):
        listed = server.client.get("/api/v1/journals", headers=server.headers(device)).json()
        directory = server.client.get("/api/v1/directory", headers=server.headers(device))
        assert listed and PORTFOLIO_5 not in {j["id"] for j in listed}
        assert PORTFOLIO_5 not in {j["id"] for j in directory.json()["journals"]}
    with server.db() as conn:
        full = directory_storage.load_full(conn)
        data = dataset.load(full, dataset.Filters())
    assert data.journals and not any(is_portfolio_id(j) for j in data.journals)
    assert_russian_error(
        server.client.get(
            f"/api/v1/journals/{PORTFOLIO_5}/document", headers=server.headers("deputy")
        ),
        404,
    )
