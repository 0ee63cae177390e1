"""Accounts could be probed and locked out (issue 12, hole 4); tokens outlived a password.

A wrong password for an existing login took 0.13–0.17 s, for a missing one 0.00–0.03 s; a
locked account answered 429 and a missing one 401; the API login had no per-address limit;
the failure count survived the lock, so one wrong attempt every 15 minutes kept a director
out; a forged `X-Forwarded-For` was believed. And a changed password left the account's
device tokens working.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from server.auth import passwords
from server.auth.service import check_credentials
from server.storage import login_limits
from server.storage.db import transaction
from tests.factories import PASSWORD
from tests.server.school_kit import SchoolServer, assert_russian_error, template
from tests.server.web.conftest import csrf_of

LOGIN = "/api/v1/auth/login"


def login(server: SchoolServer, name: str, password: str, **headers: str) -> httpx.Response:
    return server.client.post(
        LOGIN, json={"login": name, "password": password, "device_name": "тест"}, headers=headers
    )


def test_a_missing_login_verifies_a_hash_like_an_existing_one(
    server: SchoolServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: every answer costs exactly one Argon2 verification (the time
    itself is measured by scripts/bench/login_bench.py)."""
    calls: list[str | None] = []
    verify = passwords.verify_password

    def counting(stored_hash: str | None, password: str) -> bool:
        calls.append(stored_hash)
        return verify(stored_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    for name in ("math", "nobody-at-all"):
        assert_russian_error(login(server, name, "not-the-password"), 401)
    assert len(calls) == 2
    assert calls[0] is not None and calls[1] is None  # None: the dummy hash is verified


def test_a_locked_account_and_a_missing_one_answer_alike(server: SchoolServer) -> None:
    for name in ("pupil", "no-such-pupil"):
        for _ in range(server.config.login_max_failures):
            assert_russian_error(login(server, name, "not-the-password"), 401)
    locked = login(server, "pupil", PASSWORD)
    missing = login(server, "no-such-pupil", PASSWORD)
    assert locked.status_code == missing.status_code == 429
    assert locked.json() == missing.json()
    assert server.rows("SELECT count(*) AS n FROM devices WHERE name = 'тест'")[0]["n"] == 0


def test_an_expired_lock_starts_the_count_afresh(server: SchoolServer) -> None:
    """One wrong attempt after the lock expired must not lock the account again."""
    with server.db() as conn:
        for _ in range(server.config.login_max_failures):
            with pytest.raises(Exception, match="Неверный логин"):
                check_credentials(conn, server.config, login="director", password="x" * 8)
        failures, locked_until = login_limits.failures_of(conn, "director")
        assert failures == server.config.login_max_failures and locked_until > time.time()
        with transaction(conn):  # fifteen minutes pass
            conn.execute(
                "UPDATE login_failures SET locked_until = ?, first_at = first_at - 900",
                (time.time() - 1,),
            )
    assert_russian_error(login(server, "director", "still-wrong"), 401)
    with server.db() as conn:
        assert login_limits.failures_of(conn, "director")[0] == 1
    assert login(server, "director", PASSWORD).status_code == 200


def test_the_api_login_has_a_per_address_limit_kept_in_the_database(
    server: SchoolServer,
) -> None:
    limit = server.config.login_address_failures
    for n in range(limit):  # a different login each time: no account lock helps
        assert_russian_error(login(server, f"guess-{n}", "not-the-password"), 401)
    body = assert_russian_error(login(server, "math", PASSWORD), 429)
    assert "адреса" in body["message"]
    assert server.rows("SELECT count(*) AS n FROM login_address_failures")[0]["n"] == limit
    # a second server process on the same database sees the same count
    from litestar.testing import TestClient

    from server.app import create_app

    with TestClient(create_app(server.config), base_url=str(server.client.base_url)) as other:
        again = other.post(LOGIN, json={"login": "math", "password": PASSWORD})
        assert again.status_code == 429


def test_a_forged_forwarded_for_is_not_believed(server: SchoolServer) -> None:
    """Every attempt names another X-Forwarded-For; from an untrusted peer they all count
    against the peer's own address."""
    limit = server.config.login_address_failures
    for n in range(limit):
        forged = {"X-Forwarded-For": f"10.9.{n}.1"}
        assert_russian_error(login(server, f"guess-{n}", "wrong-pass", **forged), 401)
    assert login(server, "math", PASSWORD, **{"X-Forwarded-For": "10.0.0.99"}).status_code == 429
    addresses = {r["address"] for r in server.rows("SELECT address FROM login_address_failures")}
    assert addresses == {"testclient"}


def test_a_trusted_proxy_forwards_the_real_address(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    db, tokens = template(tmp_path_factory.getbasetemp())
    with SchoolServer(db, tokens, tmp_path, trusted_proxies=("testclient",)) as proxied:
        forwarded = {"X-Forwarded-For": "203.0.113.5, 198.51.100.7"}
        assert_russian_error(login(proxied, "nobody", "wrong-pass", **forwarded), 401)
        rows = proxied.rows("SELECT address FROM login_address_failures")
        assert rows == [{"address": "198.51.100.7"}]


def test_changing_the_password_revokes_the_other_sessions_and_device_tokens(
    server: SchoolServer,
) -> None:
    headers = server.headers("math")
    assert server.client.get("/api/v1/me", headers=headers).status_code == 200
    browser = server.client
    form = browser.get("/login")
    browser.post(
        "/login",
        data={"login": "math", "password": PASSWORD, "csrf": csrf_of(form.text), "next": "/"},
    )
    page = browser.get("/password")
    changed = browser.post(
        "/password",
        data={
            "old": PASSWORD,
            "new": "new-password-1",
            "again": "new-password-1",
            "csrf": csrf_of(page.text),
        },
    )
    assert changed.status_code in (200, 201), changed.text
    assert "Пароль изменён" in changed.text
    refused = server.client.get("/api/v1/me", headers=headers)
    body = assert_russian_error(refused, 401)
    assert "смены пароля" in body["message"] and "сохранены" in body["message"]
    live = server.rows(
        "SELECT count(*) AS n FROM devices WHERE login = 'math' AND revoked_at IS NULL"
    )
    assert live == [{"n": 0}]
    # the new password works from a laptop
    assert login(server, "math", "new-password-1").status_code == 200


def test_a_laptop_logging_in_again_gets_its_own_device_back_only_with_its_last_token(
    server: SchoolServer,
) -> None:
    """Its CRDT client ids are bound to its device: a new device would refuse its entries."""
    first = login(server, "math", PASSWORD).json()
    device, token = first["device_id"], first["token"]
    with server.db() as conn, transaction(conn):
        conn.execute("UPDATE devices SET revoked_at = 1 WHERE id = ?", (device,))

    def again(device_id: str, device_token: str, name: str = "math") -> dict:
        body = {"login": name, "password": PASSWORD, "device_name": "тест"}
        body |= {"device_id": device_id, "device_token": device_token}
        answer = server.client.post(LOGIN, json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    stranger = again(device, "not-its-token")  # a device id alone proves nothing
    assert stranger["device_id"] != device
    other = login(server, "rus", PASSWORD).json()
    assert again(other["device_id"], other["token"])["device_id"] != other["device_id"]
    back = again(device, token)
    assert back["device_id"] == device
    rows = server.rows("SELECT revoked_at FROM devices WHERE id = ?", (device,))
    assert rows == [{"revoked_at": None}]
    me = server.client.get("/api/v1/me", headers={"Authorization": f"Bearer {back['token']}"})
    assert me.status_code == 200
    old = server.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert old.status_code == 401  # the token it showed is spent
