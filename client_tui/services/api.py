"""Talking to the server over HTTP, and telling a refusal from a temporary failure."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from shared import wire

Transport = Callable[[bytes], bytes]  # a sync body in, a sync reply body out


class SyncError(Exception):
    def __init__(self, message_ru: str):
        super().__init__(message_ru)
        self.message_ru = message_ru


class TemporaryFailure(SyncError):
    """No link, a timeout, a server error: retry later with backoff."""


class RequestRefused(SyncError):
    """The server refused the request itself (bad input, too large): do not retry as is."""


class NotAuthorized(SyncError):
    """The token is unknown or revoked: the person must log in again."""


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message") or response.text[:200])
    except ValueError:
        return response.text[:200] or f"HTTP {response.status_code}"


def raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 401:
        raise NotAuthorized(_message(response))
    if status in (408, 425, 429) or status >= 500:
        raise TemporaryFailure(f"Сервер временно недоступен ({status}).")
    raise RequestRefused(_message(response))


class ServerApi:
    """A thin HTTP client for the server's /api/v1."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._http = http or httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0))

    def close(self) -> None:
        self._http.close()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _call(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs
    ) -> httpx.Response:
        try:
            response = self._http.request(
                method,
                f"{self.base_url}/api/v1{path}",
                headers=self._headers() | (headers or {}),
                **kwargs,
            )
        except httpx.TimeoutException as exc:
            raise TemporaryFailure("Сервер не ответил вовремя.") from exc
        except httpx.ConnectError as exc:
            raise TemporaryFailure("Нет связи с сервером.") from exc
        except httpx.TransportError as exc:
            raise TemporaryFailure("Связь с сервером прервалась.") from exc
        raise_for_status(response)
        return response

    def login(self, login: str, password: str, device_name: str) -> dict:
        return self._call(
            "POST",
            "/auth/login",
            json={"login": login, "password": password, "device_name": device_name},
        ).json()

    def logout(self) -> None:
        self._call("POST", "/auth/logout")

    def directory(self) -> bytes:
        return self._call("GET", "/directory").content

    def sync(self, body: bytes) -> bytes:
        response = self._call(
            "POST", "/sync", content=body, headers={"Content-Type": wire.CONTENT_TYPE}
        )
        return response.content
