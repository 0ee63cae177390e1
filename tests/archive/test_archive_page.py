"""The archive page: a person starts a build, watches its progress and gets the signed package."""

from __future__ import annotations

import io
import shutil
import threading
import time

import pytest
from litestar.testing import TestClient
from pypdf import PdfReader

from server.app import create_app
from server.archive import jobs, keys
from server.archive.closing import close_year
from server.archive.verify import package_hash, verify_folder
from server.config import ServerConfig
from server.storage.db import connect
from tests.archive.conftest import CLOSED_ON
from tests.factories import MATH_5, YEAR
from tests.server.web.conftest import BASE_URL, csrf_of, log_in


@pytest.fixture
def closed(school: ServerConfig) -> ServerConfig:
    conn = connect(school.database)
    close_year(conn, login="records", year_id=YEAR, on=CLOSED_ON)
    conn.close()
    keys.generate(school.archive_key_path, password=b"")
    return school


def browser(config: ServerConfig, login: str) -> TestClient:
    client = TestClient(create_app(config), base_url=BASE_URL)
    client.__enter__()
    assert log_in(client, login).status_code == 303
    return client


def wait_for(job_id: int) -> None:
    for thread in threading.enumerate():
        if thread.name == f"archive-job-{job_id}":
            thread.join(timeout=300)
            assert not thread.is_alive(), "the archive build did not finish"


def start_build(client: TestClient, **form: str):
    csrf = csrf_of(client.get("/archive").text)
    return client.post("/archive/build", data={"csrf": csrf, **form}, follow_redirects=False)


def test_records_officer_builds_the_year_package_from_the_page(closed):
    client = browser(closed, "records")
    page = client.get("/archive")
    assert page.status_code == 200
    assert "<title>Архив — Журнал</title>" in page.text
    assert page.text.count("Истёк срок хранения") == 1
    assert "Сформировать пакет" in page.text
    public = keys.load_public(closed.archive_key_path.with_name("archive-key.pem.pub"))
    assert keys.fingerprint(public) in page.text

    response = start_build(client, year_id=YEAR)
    assert response.status_code == 303
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    wait_for(job_id)

    done = client.get(f"/archive/jobs/{job_id}")
    assert "Пакет готов" in done.text
    assert 'http-equiv="refresh"' not in done.text  # a finished job stops reloading
    conn = connect(closed.database)
    job = jobs.get(conn, job_id)
    conn.close()
    assert job.state == jobs.DONE and job.done == job.total > 0
    folder = closed.archive_folder / "sch"  # each school's chain in its own folder
    bag = folder / job.package.rsplit("/", 1)[1]
    assert job.sha256 == package_hash(bag) and job.sha256 in done.text
    assert verify_folder(folder, [public]).ok
    assert bag.name in client.get("/archive").text  # listed among the built packages
    client.__exit__(None, None, None)


def test_one_journal_package_is_built_before_the_year_is_closed(school):
    keys.generate(school.archive_key_path, password=b"")
    client = browser(school, "deputy")
    assert "сначала закройте год" in client.get("/archive").text
    response = start_build(client, journal_id=MATH_5)
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    wait_for(job_id)
    assert "Пакет готов" in client.get(f"/archive/jobs/{job_id}").text
    client.__exit__(None, None, None)


def test_year_package_of_an_open_year_fails_with_the_reason_on_the_job_page(school):
    keys.generate(school.archive_key_path, password=b"")
    client = browser(school, "records")
    response = start_build(client, year_id=YEAR)
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    wait_for(job_id)
    text = client.get(f"/archive/jobs/{job_id}").text
    assert "Пакет не сформирован" in text and "не закрыт" in text
    assert not any(closed_bag.is_dir() for closed_bag in school.archive_folder.glob("*"))
    client.__exit__(None, None, None)


def test_without_the_signing_key_nothing_starts_and_the_page_says_why(closed):
    closed.archive_key_path.unlink()
    client = browser(closed, "records")
    assert "Ключ подписи архива не создан" in client.get("/archive").text
    response = start_build(client, year_id=YEAR)
    assert response.status_code == 400
    assert "archive-key init" in response.text
    conn = connect(closed.database)
    assert conn.execute("SELECT count(*) FROM archive_jobs").fetchone()[0] == 0
    conn.close()
    client.__exit__(None, None, None)


def _add_job(config: ServerConfig, *, done: int, total: int, heartbeat: float) -> int:
    conn = connect(config.database)
    job_id = conn.execute(
        "INSERT INTO archive_jobs (year_id, login, state, done, total, started_at, heartbeat) "
        "VALUES (?, 'records', 'running', ?, ?, ?, ?)",
        (YEAR, done, total, heartbeat, heartbeat),
    ).lastrowid
    conn.close()
    return job_id


def test_a_running_build_shows_its_progress_bar_and_refuses_a_second_one(closed):
    job_id = _add_job(closed, done=5, total=20, heartbeat=time.time())
    client = browser(closed, "records")
    text = client.get(f"/archive/jobs/{job_id}").text
    assert '<progress value="5" max="20"' in text and "5 из 20 (25 %)" in text
    assert 'http-equiv="refresh"' in text
    response = start_build(client, year_id=YEAR)
    assert response.status_code == 400
    assert f"задание № {job_id}" in response.text
    client.__exit__(None, None, None)


def test_a_build_whose_server_stopped_shows_as_interrupted_and_blocks_nothing(closed):
    job_id = _add_job(closed, done=5, total=20, heartbeat=time.time() - 3600)
    client = browser(closed, "records")
    assert "Формирование прервано" in client.get(f"/archive/jobs/{job_id}").text
    response = start_build(client, year_id=YEAR)
    assert response.status_code == 303
    wait_for(int(response.headers["location"].rsplit("/", 1)[1]))
    client.__exit__(None, None, None)


def test_unknown_job_is_a_russian_404(closed):
    client = browser(closed, "director")
    response = client.get("/archive/jobs/999")
    assert response.status_code == 404 and "Такого задания нет" in response.text
    client.__exit__(None, None, None)


def test_records_officer_sees_what_is_due_and_drafts_the_act_on_the_page(archived, tmp_path):
    shutil.move(archived.folder, tmp_path / "served" / "sch")
    config = ServerConfig(
        database=archived.config.database,
        archive_dir=tmp_path / "served",
        archive_key=archived.private_key,
    )
    client = browser(config, "records")
    assert "Документов с истёкшим сроком хранения нет" in client.get("/archive").text
    page = client.get("/archive?on=2033-01-01")
    assert "Истёк срок хранения на 01.01.2033" in page.text
    assert "Математика" in page.text and "Составить акт" in page.text
    response = client.post(
        "/archive/act",
        data={"csrf": csrf_of(page.text), "number": "7", "on": "2033-01-01"},
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Акт № 7" in text
    conn = connect(config.database)
    assert conn.execute("SELECT number FROM destruction_acts").fetchone()[0] == "7"
    conn.close()
    deputy = browser(config, "deputy")  # sees the list, may not draft the act
    assert "Составить акт" not in deputy.get("/archive?on=2033-01-01").text
    csrf = csrf_of(deputy.get("/archive").text)
    refused = deputy.post("/archive/act", data={"csrf": csrf, "number": "8"})
    assert refused.status_code == 403
    for c in (client, deputy):
        c.__exit__(None, None, None)
