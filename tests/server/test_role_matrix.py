"""Who may call which endpoint: a table with a row for every route of the app.

Each row names the logins of the fixture school allowed to call it; every login calls every
row. An allowed call succeeds (2xx); a refused one gets 403 with a Russian message; a call
without a valid device token gets 401. A route the app serves without a row here fails
`test_every_route_has_a_row`, so a new endpoint cannot ship without deciding who may call it.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from server.archive.closing import close_year
from server.storage.db import transaction
from server.storage.journals import keep_reply
from server.storage.web import set_consent
from shared import wire
from tests.factories import ACCOUNTS, MATH_5, MATH_6, PASSWORD, RUSSIAN_5, YEAR
from tests.server.portfolio_kit import (
    PDF,
    PDF_SHA,
    achievement,
    attachment,
    push_achievement,
    upload,
)
from tests.server.school_kit import SchoolServer, Writer, assert_russian_error, template

LOGINS = tuple(ACCOUNTS)
EVERYONE = frozenset(LOGINS)
STAFF = frozenset({"math", "rus", "deputy", "director", "records", "admin"})
JOURNAL_STAFF = STAFF - {"admin"}  # the system administrator needs no marks (000 §5.2)
SUPERVISORS = frozenset({"deputy", "director", "admin"})
READ_ALL = frozenset({"deputy", "director", "records"})
# Who reads each journal (server/auth/access.py): its teacher, the class teacher of its class
# (read-only, 000 §5.5), the administration and the records officer; never the sysadmin,
# parents or pupils.
READERS = {
    MATH_5: READ_ALL | {"math"},  # math teaches it; rus teaches only russian in 5
    RUSSIAN_5: READ_ALL | {"rus", "math"},  # rus teaches it; math is class teacher of 5
    MATH_6: READ_ALL | {"math", "rus"},  # math teaches it; rus is class teacher of 6
}
# Which journals each login may write: the subject's teacher and the administration.
WRITABLE = {
    "math": {MATH_5, MATH_6},
    "rus": {RUSSIAN_5},
    "deputy": {MATH_5, MATH_6, RUSSIAN_5},
    "director": {MATH_5, MATH_6, RUSSIAN_5},
    "records": set(),
    "admin": set(),
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    route: str  # the path as the app declares it
    allowed: frozenset[str]
    path: str = ""  # the concrete path; {device} is a device of the caller
    public: bool = False  # needs no token
    json: dict | None = None  # the request body, for endpoints that take one
    closed_year: bool | None = None  # changes the school: run on a fresh server, year closed?

    @property
    def url(self) -> str:
        return self.path or self.route

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


DOCUMENT = "/api/v1/journals/{journal_id:str}/document"
LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
REVOKE = "/api/v1/devices/{device_id:str}/revoke"
SYNC = "/api/v1/sync"
REPLY = "/api/v1/sync/replies/{reply_id:str}"
ATTACHMENT = "/api/v1/attachments/{sha256:str}"
# A diploma of s-1 (class 5, child of p-1, whose consent is recorded), cited by an entry in the
# class's portfolio: the keepers of that portfolio send it; they, the administration, the
# records officer and the family (own child, with consent) read it (000 §5.5, 003 §3.3.3).
KEEPERS_5 = frozenset({"math", "rus", "deputy", "director"})
ADMINISTRATION = frozenset({"deputy", "director"})  # authorise corrections (000 §5.3)
RECORDS = frozenset({"director", "records"})
DIRECTOR = frozenset(
    {"director"}
)  # an early close, a reopening (issue 12)  # retention and destruction (000 §7.11)

ENDPOINTS = (
    Endpoint("GET", "/api/v1/health", EVERYONE, public=True),
    Endpoint("POST", LOGIN, EVERYONE, public=True),
    Endpoint("GET", "/api/v1/me", EVERYONE),
    Endpoint("GET", "/api/v1/devices", EVERYONE),
    Endpoint("POST", LOGOUT, EVERYONE),
    Endpoint("POST", REVOKE, EVERYONE, path="/api/v1/devices/{device}/revoke"),
    Endpoint("GET", "/api/v1/directory", STAFF),
    Endpoint("GET", "/api/v1/journals", STAFF),
    *(
        Endpoint("GET", DOCUMENT, readers, path=f"/api/v1/journals/{journal}/document")
        for journal, readers in READERS.items()
    ),
    Endpoint("POST", SYNC, JOURNAL_STAFF),
    Endpoint("GET", REPLY, JOURNAL_STAFF, path="/api/v1/sync/replies/{reply}"),
    Endpoint("GET", "/api/v1/quarantine", SUPERVISORS),
    Endpoint(
        "POST",
        "/api/v1/years/{year_id:str}/close",
        DIRECTOR,  # before the year's last day (the server's clock): the director, with a reason
        path=f"/api/v1/years/{YEAR}/close",
        json={"early_reason": "приказ о досрочном окончании года"},
        closed_year=False,
    ),
    Endpoint(
        "POST",
        "/api/v1/years/{year_id:str}/reopen",
        DIRECTOR,
        path=f"/api/v1/years/{YEAR}/reopen",
        json={"reason": "год закрыт по ошибке"},
        closed_year=True,
    ),
    Endpoint(
        "POST",
        "/api/v1/journals/{journal_id:str}/corrections",
        ADMINISTRATION,
        path=f"/api/v1/journals/{MATH_5}/corrections",
        json={"person_id": "t-math", "reason": "служебная записка", "days": 5},
        closed_year=True,
    ),
    Endpoint("GET", "/api/v1/archive/retention", RECORDS),
    Endpoint("HEAD", ATTACHMENT, KEEPERS_5, path=f"/api/v1/attachments/{PDF_SHA}"),
    Endpoint("PUT", ATTACHMENT, KEEPERS_5, path=f"/api/v1/attachments/{PDF_SHA}"),
    Endpoint(
        "GET",
        ATTACHMENT,
        KEEPERS_5 | {"records", "parent", "pupil"},
        path=f"/api/v1/attachments/{PDF_SHA}",
    ),
)
PROTECTED = tuple(e for e in ENDPOINTS if not e.public)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchoolServer]:
    db, tokens = template(tmp_path_factory.getbasetemp())
    with SchoolServer(db, tokens, tmp_path_factory.mktemp("matrix")) as school:
        cite_diploma(school)
        yield school


def cite_diploma(server: SchoolServer) -> None:
    """The portfolio entry naming the diploma, the diploma itself, and p-1's consent."""
    event = achievement(Writer(server.tokens["math"]), attachment=attachment())
    assert push_achievement(server, "math", event).outcome is wire.Outcome.ACCEPTED
    assert upload(server, "math", PDF).json()["complete"]
    with server.db() as conn, transaction(conn):
        set_consent(conn, "p-1", "given", "rus", time.time(), "")


@pytest.fixture
def fresh(tmp_path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchoolServer]:
    """A server of its own, for tests that lock accounts or revoke the usual devices."""
    db, tokens = template(tmp_path_factory.getbasetemp())
    with SchoolServer(db, tokens, tmp_path) as school:
        yield school


def call(
    server: SchoolServer, endpoint: Endpoint, login: str, token: str | None, device: str = ""
) -> httpx.Response:
    """Call `endpoint` as `login` with `token` (None: no Authorization header)."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    kwargs: dict = {}
    if endpoint.route == LOGIN:
        kwargs["json"] = {"login": login, "password": PASSWORD, "device_name": "матрица"}
    elif endpoint.json is not None:
        kwargs["json"] = endpoint.json
    elif endpoint.route == SYNC:
        kwargs["content"] = wire.encode(wire.SyncRequest())
        headers["Content-Type"] = wire.CONTENT_TYPE
    elif endpoint.route == ATTACHMENT and endpoint.method == "PUT":
        kwargs["content"] = PDF  # the whole file again: a complete file answers as complete
        headers["Content-Type"] = "application/pdf"
        headers["Content-Range"] = f"bytes 0-{len(PDF) - 1}/{len(PDF)}"
    url = endpoint.url.replace("{device}", device or "d-000000000000")
    if endpoint.route == REPLY:  # a reply the server kept for the caller's device
        reply_id = f"reply-{secrets.token_hex(4)}"
        with server.db() as conn, transaction(conn):
            device_id = server.tokens[login]["device_id"]
            keep_reply(conn, reply_id, device_id, b"x" * 5000, time.time())
        url = url.replace("{reply}", reply_id)
    return server.client.request(endpoint.method, url, headers=headers, **kwargs)


def token_of(server: SchoolServer, login: str) -> str:
    return server.tokens[login]["token"]


# ----------------------------------------------------------------- the table itself


def test_every_route_has_a_row(server: SchoolServer) -> None:
    served = {
        (method, route.path)
        for route in server.client.app.routes
        for method in getattr(route, "methods", ())
        if method != "OPTIONS" and route.path.startswith("/api")
    }  # the pages for people have their own matrix: tests/server/web/test_web_role_matrix.py
    rows = {(e.method, e.route) for e in ENDPOINTS}
    assert served - rows == set(), "routes without a row in the role matrix"
    assert rows - served == set(), "rows for routes the app does not serve"


@pytest.mark.parametrize("login", LOGINS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_role_matrix(
    server: SchoolServer, endpoint: Endpoint, login: str, tmp_path, tmp_path_factory
) -> None:
    if endpoint.closed_year is not None:
        db, tokens = template(tmp_path_factory.getbasetemp())
        with SchoolServer(db, tokens, tmp_path) as own:
            if endpoint.closed_year:
                with own.db() as conn:
                    close_year(conn, login="records", year_id=YEAR, on=dt.date(2027, 6, 20))
            response = call(own, endpoint, login, token_of(own, login))
            changed = own.count("year_closures") + own.count("correction_grants")
        if login in endpoint.allowed:
            assert 200 <= response.status_code < 300, response.text
            if endpoint.route.endswith("/reopen"):
                assert changed == 0  # the closure is gone
            else:
                assert changed == 2 if endpoint.closed_year else changed == 1
        else:
            assert assert_russian_error(response, 403)["error"] == "access_denied"
            assert changed == int(bool(endpoint.closed_year))  # nothing changed
        return
    token, device = token_of(server, login), ""
    if endpoint.route == LOGOUT:
        # Logging out revokes the calling device: use a spare one, keep the usual token.
        device, token = server.add_device(login)
    elif endpoint.route == REVOKE:
        device, _ = server.add_device(login)
    response = call(server, endpoint, login, token, device)
    if login in endpoint.allowed:
        assert 200 <= response.status_code < 300, response.text
    elif endpoint.method == "HEAD":  # no body to carry a message
        assert response.status_code == 403
    else:
        body = assert_russian_error(response, 403)
        assert body["error"] == "access_denied"
    if endpoint.route in (LOGOUT, REVOKE):
        # The device is cut off at once; the caller's usual device still works.
        me = server.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == (401 if endpoint.route == LOGOUT else 200)
        spare = server.rows("SELECT revoked_at FROM devices WHERE id = ?", [device])
        assert spare[0]["revoked_at"] is not None


@pytest.mark.parametrize("login", LOGINS)
def test_journals_lists_what_each_login_reads_and_writes(server: SchoolServer, login: str) -> None:
    response = server.client.get("/api/v1/journals", headers=server.headers(login))
    if login not in STAFF:
        assert_russian_error(response, 403)
        return
    assert response.status_code == 200
    listed = {j["id"]: j["writable"] for j in response.json()}
    readable = {journal for journal, readers in READERS.items() if login in readers}
    assert set(listed) == readable
    assert {j for j, writable in listed.items() if writable} == WRITABLE[login]


def test_me_names_the_caller(server: SchoolServer) -> None:
    for login, (role, person) in ACCOUNTS.items():
        me = server.client.get("/api/v1/me", headers=server.headers(login)).json()
        assert (me["login"], me["role"], me["person_id"]) == (login, role.value, person)
        assert me["device_id"] == server.tokens[login]["device_id"]


def test_devices_lists_own_devices_and_the_sysadmin_sees_all(server: SchoolServer) -> None:
    own = server.client.get("/api/v1/devices", headers=server.headers("parent")).json()
    assert own and {d["login"] for d in own} == {"parent"}
    everything = server.client.get("/api/v1/devices", headers=server.headers("admin")).json()
    assert {d["login"] for d in everything} == EVERYONE


def test_a_teacher_cannot_revoke_a_colleagues_device_but_the_sysadmin_can(
    server: SchoolServer,
) -> None:
    device, token = server.add_device("rus")
    url = f"/api/v1/devices/{device}/revoke"
    refused = server.client.post(url, headers=server.headers("math"))
    assert_russian_error(refused, 403)
    rus_me = {"Authorization": f"Bearer {token}"}
    assert server.client.get("/api/v1/me", headers=rus_me).status_code == 200
    for login in ("deputy", "director", "parent"):  # only the owner or the sysadmin
        assert_russian_error(server.client.post(url, headers=server.headers(login)), 403)
    done = server.client.post(url, headers=server.headers("admin"))
    assert done.status_code == 200, done.text
    assert_russian_error(server.client.get("/api/v1/me", headers=rus_me), 401)


def test_revoking_an_unknown_device_is_404_in_russian(server: SchoolServer) -> None:
    response = server.client.post(
        "/api/v1/devices/d-nosuchdevice/revoke", headers=server.headers("admin")
    )
    assert_russian_error(response, 404)


def test_an_unknown_journal_document_is_404_in_russian(server: SchoolServer) -> None:
    response = server.client.get(
        "/api/v1/journals/2026-2027~nope~math/document", headers=server.headers("deputy")
    )
    assert_russian_error(response, 404)


# ----------------------------------------------------------------- tokens


def test_public_endpoints_need_no_token(server: SchoolServer) -> None:
    for endpoint in ENDPOINTS:
        if endpoint.public:
            response = call(server, endpoint, "pupil", None)
            assert response.status_code == 200, (endpoint, response.text)


@pytest.mark.parametrize("endpoint", PROTECTED, ids=str)
def test_no_token_is_401(server: SchoolServer, endpoint: Endpoint) -> None:
    response = call(server, endpoint, "math", None)
    if endpoint.method == "HEAD":  # no body to carry a message
        assert response.status_code == 401
        return
    assert assert_russian_error(response, 401)["error"] == "unauthorized"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer garbage-token",
        "Bearer ",
        "Basic bWF0aDpwYXNzd29yZC0xMjM=",
        "garbage",
    ],
)
@pytest.mark.parametrize("endpoint", PROTECTED, ids=str)
def test_a_garbage_token_is_401(server: SchoolServer, endpoint: Endpoint, header: str) -> None:
    url = endpoint.url.replace("{device}", server.tokens["math"]["device_id"])
    response = server.client.request(
        endpoint.method, url, headers={"Authorization": header}, content=b""
    )
    if endpoint.method == "HEAD":
        assert response.status_code == 401
    else:
        assert_russian_error(response, 401)


@pytest.fixture(scope="module")
def revoked_token(server: SchoolServer) -> tuple[str, str]:
    device, token = server.add_device("deputy")
    done = server.client.post(LOGOUT, headers={"Authorization": f"Bearer {token}"})
    assert done.status_code == 200
    return device, token


@pytest.mark.parametrize("endpoint", PROTECTED, ids=str)
def test_a_revoked_devices_token_is_401_everywhere(
    server: SchoolServer, endpoint: Endpoint, revoked_token: tuple[str, str]
) -> None:
    device, token = revoked_token
    response = call(server, endpoint, "deputy", token, device)
    if endpoint.method == "HEAD":
        assert response.status_code == 401
    else:
        assert_russian_error(response, 401)


# ----------------------------------------------------------------- login


def login(server: SchoolServer, name: str, password: str) -> httpx.Response:
    return server.client.post(
        LOGIN, json={"login": name, "password": password, "device_name": "тест"}
    )


def test_wrong_password_or_unknown_login_is_401_in_russian(fresh: SchoolServer) -> None:
    wrong = assert_russian_error(login(fresh, "math", "not-the-password"), 401)
    unknown = assert_russian_error(login(fresh, "nobody", PASSWORD), 401)
    assert wrong == unknown  # the answer does not reveal which logins exist
    assert fresh.rows("SELECT count(*) AS n FROM devices WHERE name = 'тест'")[0]["n"] == 0


def test_five_wrong_passwords_lock_the_account(fresh: SchoolServer) -> None:
    for _ in range(fresh.config.login_max_failures):
        assert_russian_error(login(fresh, "pupil", "not-the-password"), 401)
    body = assert_russian_error(login(fresh, "pupil", PASSWORD), 429)
    assert body["error"] == "too_many_attempts"
    # Existing devices keep working, and other accounts are not affected.
    assert fresh.client.get("/api/v1/me", headers=fresh.headers("pupil")).status_code == 200
    assert login(fresh, "parent", PASSWORD).status_code == 200


def test_a_successful_login_resets_the_failure_count(fresh: SchoolServer) -> None:
    for _ in range(fresh.config.login_max_failures - 1):
        assert_russian_error(login(fresh, "rus", "not-the-password"), 401)
    assert fresh.rows("SELECT failures FROM login_failures WHERE login = 'rus'") == [
        {"failures": fresh.config.login_max_failures - 1}
    ]
    assert login(fresh, "rus", PASSWORD).status_code == 200
    assert fresh.rows("SELECT * FROM login_failures WHERE login = 'rus'") == []
