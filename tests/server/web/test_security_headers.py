"""Security headers on every page (issue 12, hole 7): a content security policy, no framing,
no type sniffing, a same-origin referrer; `Secure` cookies when the site is served over TLS.

Every page of the role matrix is fetched as a person allowed to see it and must render under
the policy: no inline script, no inline event handler, nothing loaded from another origin.
"""

from __future__ import annotations

import re

import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.security_headers import CONTENT_SECURITY_POLICY
from tests.factories import PASSWORD
from tests.server.web.conftest import csrf_of
from tests.server.web.test_web_role_matrix import PAGES

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
FOREIGN = re.compile(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//""", re.I)


def assert_secure_headers(response) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def assert_renders_under_the_policy(html: str) -> None:
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html)
    assert not EVENT_HANDLER.search(html), EVENT_HANDLER.search(html)
    assert "javascript:" not in html.lower()
    assert not FOREIGN.search(html), FOREIGN.search(html)


@pytest.mark.parametrize("path", sorted(PAGES), ids=str)
def test_every_page_renders_under_the_content_security_policy(browser_as, path: str) -> None:
    login = sorted(PAGES[path])[0]
    response = browser_as(login).get(path)
    assert response.status_code == 200, response.text
    assert_secure_headers(response)
    if response.headers["content-type"].startswith("text/html"):
        assert_renders_under_the_policy(response.text)


def test_the_login_page_and_errors_carry_the_headers_too(browser_as) -> None:
    client = browser_as(None)
    for path in ("/login", "/no-such-page", "/diary"):
        response = client.get(path, follow_redirects=False)
        assert_secure_headers(response)
        if "html" in response.headers.get("content-type", ""):
            assert_renders_under_the_policy(response.text)
    api = client.get("/api/v1/me")
    assert api.status_code == 401
    assert api.headers["x-frame-options"] == "DENY"


def test_the_report_choice_works_without_a_script(browser_as) -> None:
    client = browser_as("deputy")
    response = client.get(
        "/reports/results?__report=missed&class_id=2026-2027-5", follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/reports/missed?class_id=2026-2027-5"


@pytest.mark.parametrize(
    ("base_url", "secure"), [("https://school.local", True), ("http://school.local", False)]
)
def test_cookies_are_secure_when_served_over_tls(web_config, base_url: str, secure: bool) -> None:
    with TestClient(create_app(web_config), base_url=base_url) as client:
        form = client.get("/login")
        assert ("secure" in form.headers["set-cookie"].lower()) is secure
        response = client.post(
            "/login",
            data={"login": "deputy", "password": PASSWORD, "csrf": csrf_of(form.text)},
            follow_redirects=False,
        )
        assert response.status_code == 303
        session = response.headers["set-cookie"]
        assert "zh_session=" in session
        assert ("; secure" in session.lower()) is secure


def test_a_forwarded_proto_is_believed_only_from_a_trusted_proxy(web_config) -> None:
    import msgspec

    headers = {"X-Forwarded-Proto": "https"}
    with TestClient(create_app(web_config), base_url="http://school.local") as client:
        assert "secure" not in client.get("/login", headers=headers).headers["set-cookie"].lower()
    trusted = msgspec.structs.replace(web_config, trusted_proxies=("testclient",))
    with TestClient(create_app(trusted), base_url="http://school.local") as client:
        assert "secure" in client.get("/login", headers=headers).headers["set-cookie"].lower()
