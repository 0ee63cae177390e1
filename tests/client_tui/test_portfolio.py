"""Achievements entered on a laptop (offline), synced into the server's portfolio rows, with
their proof documents uploaded after the entries, in chunks."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from client_tui.services.portfolio import AchievementForm, upload_pending
from client_tui.services.session import Session
from server.config import ServerConfig
from server.storage import portfolio as portfolio_storage
from server.storage.db import connect
from shared.model import AchievementKind, AchievementLevel, AchievementResult
from shared.rules import RuleViolation
from tests.factories import CLASS_5, CLASS_6

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 600 + b"\n%%EOF\n"  # ~150 KB


def pdf(tmp_path: Path, name: str = "диплом.pdf", body: bytes = PDF) -> str:
    path = tmp_path / name
    path.write_bytes(body)
    return str(path)


def form(**fields) -> AchievementForm:
    values = {
        "student_id": "s-1",
        "kind": AchievementKind.OLYMPIAD,
        "title": "Школьный этап ВсОШ по математике",
        "area": "математика",
        "level": AchievementLevel.SCHOOL,
        "result": AchievementResult.WINNER,
        "date": dt.date(2026, 10, 15),
    }
    return AchievementForm(**(values | fields))


def server_rows(config: ServerConfig) -> list:
    conn = connect(config.database)
    try:
        return portfolio_storage.achievements(conn)
    finally:
        conn.close()


def server_file(config: ServerConfig, sha: str) -> sqlite3.Row | None:
    conn = connect(config.database)
    try:
        return conn.execute(
            "SELECT size, received, completed_at, body FROM attachments WHERE sha256 = ?", (sha,)
        ).fetchone()
    finally:
        conn.close()


def test_an_achievement_entered_offline_reaches_the_portfolio_with_its_document(
    laptop, server_config: ServerConfig, tmp_path: Path
) -> None:
    math: Session = laptop("math")
    event = math.portfolio.add(CLASS_5, form(file=pdf(tmp_path)))
    # saved locally before any sync: the file is kept in the store
    assert [v.title for v in math.portfolio.achievements()] == [event.title]
    (kept,) = math.store.attachments()
    assert (kept["state"], kept["size"]) == ("waiting", len(PDF))
    assert server_rows(server_config) == []

    report = math.sync()
    assert report.complete and report.files_uploaded == 1
    (row,) = server_rows(server_config)
    assert (row.id, row.student_id, row.kind, row.result) == (
        event.achievement_id,
        "s-1",
        AchievementKind.OLYMPIAD,
        AchievementResult.WINNER,
    )
    assert row.attachment == event.attachment and row.author == "t-math"
    stored = server_file(server_config, event.attachment.sha256)
    assert stored["completed_at"] is not None and bytes(stored["body"]) == PDF
    (kept,) = math.store.attachments()
    assert kept["state"] == "uploaded"  # the laptop dropped its copy once the server had it
    assert math.store.attachment_body(kept["sha256"], 0, 10) == b""
    assert "на сервере" in math.portfolio.achievements()[0].document


def test_a_correction_and_a_retraction_reach_the_consolidated_row(
    laptop, server_config: ServerConfig
) -> None:
    math = laptop("math")
    first = math.portfolio.add(CLASS_5, form())
    math.sync()
    math.portfolio.add(
        CLASS_5,
        form(result=AchievementResult.PRIZE_WINNER, level=AchievementLevel.MUNICIPAL),
        achievement_id=first.achievement_id,
    )
    math.sync()
    (row,) = server_rows(server_config)
    assert (row.result, row.level) == (AchievementResult.PRIZE_WINNER, AchievementLevel.MUNICIPAL)
    math.portfolio.retract(CLASS_5, first.achievement_id, "внесено по ошибке")
    math.sync()
    assert server_rows(server_config) == []
    assert math.portfolio.achievements() == []


def test_another_teacher_of_the_class_sees_the_entry_after_sync(laptop) -> None:
    math, rus = laptop("math"), laptop("rus")  # rus teaches russian in 5
    event = math.portfolio.add(CLASS_5, form())
    math.sync()
    rus.sync()
    assert [v.achievement_id for v in rus.portfolio.achievements(CLASS_5)] == [event.achievement_id]


def test_the_portfolio_is_not_listed_among_the_journals(laptop) -> None:
    math = laptop("math")
    math.portfolio.add(CLASS_5, form())
    math.sync()
    listed = [s.info.id for s in math.book.summaries()]
    assert listed and not any("portfolio" in j for j in listed)


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"student_id": "s-5"}, "achievement_pupil_in_class"),  # s-5 is in class 6
        ({"external": True}, "external_needs_family_consent"),
        ({"date": dt.date(2030, 1, 1)}, "achievement_date_valid"),
    ],
)
def test_a_refused_entry_stores_nothing(laptop, fields: dict, rule: str) -> None:
    math = laptop("math")
    with pytest.raises(RuleViolation) as refused:
        math.portfolio.add(CLASS_5, form(**fields))
    assert refused.value.rule == rule and refused.value.message_ru
    assert math.portfolio.achievements() == [] and math.store.outbox() == []


@pytest.mark.parametrize(
    ("name", "body", "words"),
    [
        ("вирус.pdf", b"MZ\x90\x00" + b"\x00" * 4000, "не является документом"),
        ("скан.png", PDF, "PDF"),
        ("скан.docx", b"PK\x03\x04", "PDF, PNG или JPEG"),
        ("большой.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "10 МБ"),
    ],
)
def test_a_bad_file_is_refused_at_the_keyboard(
    laptop, tmp_path: Path, name: str, body: bytes, words: str
) -> None:
    math = laptop("math")
    with pytest.raises(RuleViolation) as refused:
        math.portfolio.add(CLASS_5, form(file=pdf(tmp_path, name, body)))
    assert words in refused.value.message_ru
    assert math.store.attachments() == [] and math.store.outbox() == []


def test_external_achievement_with_family_consent_is_taken(laptop, server_config) -> None:
    math = laptop("math")
    math.portfolio.add(
        CLASS_6, form(student_id="s-5", external=True, family_consent=True, organiser="ДЮСШ")
    )
    assert math.sync().complete
    (row,) = server_rows(server_config)
    assert row.external and row.family_consent and row.organiser == "ДЮСШ"


def test_a_file_is_sent_only_after_its_entry_is_accepted(laptop, tmp_path: Path) -> None:
    math = laptop("math")
    math.portfolio.add(CLASS_5, form(file=pdf(tmp_path)))
    report = upload_pending(math.book, math.api())  # the entry has not been synced yet
    assert (report.uploaded, report.waiting) == (0, 1)
    assert math.store.attachments()[0]["sent"] == 0


def test_a_file_whose_entry_the_server_refuses_stays_on_the_laptop_with_the_reason(
    laptop, server_config: ServerConfig, tmp_path: Path
) -> None:
    """The laptop's directory is a day old: s-1 has left class 5 on the server since."""
    math = laptop("math")
    conn = connect(server_config.database)
    with conn:
        conn.execute("DELETE FROM memberships WHERE student_id = 's-1'")
    conn.close()
    math.portfolio.add(CLASS_5, form(file=pdf(tmp_path)))  # passes with the laptop's directory
    report = math.sync()
    assert report.refused == 1 and report.files_uploaded == 0
    (kept,) = math.store.attachments()
    assert kept["state"] == "refused" and "отклонена" in kept["message"]
    assert math.store.attachment_body(kept["sha256"], 0, 5) == b"%PDF-"  # nothing lost
    assert server_file(server_config, kept["sha256"]) is None and server_rows(server_config) == []
    (problem,) = math.problems()
    assert "Портфолио" in problem.journal and "достижение" in problem.what
