"""Pages travel gzipped (evening 3G); downloads and the device API do not pass through it."""

from __future__ import annotations

from server.web.static_files import static_url

WEEK = "/diary/s-1?week=2026-09-14"


def test_a_week_of_the_diary_travels_gzipped_and_reads_the_same(browser_as):
    client = browser_as("parent")
    packed = client.get(WEEK, headers={"Accept-Encoding": "gzip"})
    plain = client.get(WEEK, headers={"Accept-Encoding": "identity"})
    assert packed.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert "accept-encoding" in packed.headers["vary"].lower()
    assert int(packed.headers["content-length"]) < len(plain.content) / 3
    # the same page apart from the «данные на» minute and the session's token
    assert packed.text.count("<tr>") == plain.text.count("<tr>") > 0
    assert packed.headers["x-offline-key"] == plain.headers["x-offline-key"]


def test_static_text_is_gzipped_icons_and_downloads_are_not(browser_as):
    client = browser_as("parent")
    css = client.get(static_url("zhurnal.css"))
    assert css.headers["content-encoding"] == "gzip"
    assert css.content.startswith(b"/*")
    assert "content-encoding" not in client.get(static_url("icon-192.png")).headers
    pdf = client.get("/portfolio/s-1/pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "content-encoding" not in pdf.headers and pdf.content.startswith(b"%PDF")
    document = client.get("/portfolio/document/a-1")
    assert document.status_code == 200 and "content-encoding" not in document.headers
    assert "content-encoding" not in client.get("/api/v1/health").headers


def test_the_worker_script_is_gzipped_and_a_redirect_is_left_alone(browser_as):
    response = browser_as(None).get("/sw.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"  # 6 KB of script
    redirect = browser_as(None).get("/diary", follow_redirects=False)
    assert redirect.status_code == 303 and "content-encoding" not in redirect.headers
