"""Talking to the server over HTTP, and telling a refusal from a temporary failure."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

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


RESUME_ATTEMPTS = 3
RESUME_PAUSE = 0.5  # seconds before the second attempt; doubles


@dataclass
class PartialReply:
    request: bytes  # SHA-256 of the request body it answers
    reply_id: str | None  # None: the server did not keep it (small)
    size: int  # Content-Length; -1 if not given
    received: bytearray = field(default_factory=bytearray)

    @property
    def complete(self) -> bool:
        return self.size >= 0 and len(self.received) >= self.size


class _ReplyGone(Exception):
    """The server no longer keeps the reply being resumed."""


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
        self._partial: PartialReply | None = None  # a sync reply the link cut

    def close(self) -> None:
        self._http.close()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    @staticmethod
    def _temporary(exc: httpx.TransportError) -> TemporaryFailure:
        if isinstance(exc, httpx.TimeoutException):
            return TemporaryFailure("Сервер не ответил вовремя.")
        if isinstance(exc, httpx.ConnectError):
            return TemporaryFailure("Нет связи с сервером.")
        return TemporaryFailure("Связь с сервером прервалась.")

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
        except httpx.TransportError as exc:
            raise self._temporary(exc) from exc
        raise_for_status(response)
        return response

    def login(
        self, login: str, password: str, device_name: str, *, device_id: str = "", token: str = ""
    ) -> dict:
        """`device_id` and the `token` it last held: log in again as the same device."""
        body = {"login": login, "password": password, "device_name": device_name}
        if device_id and token:
            body |= {"device_id": device_id, "device_token": token}
        return self._call("POST", "/auth/login", json=body).json()

    def logout(self) -> None:
        self._call("POST", "/auth/logout")

    def directory(self) -> bytes:
        return self._call("GET", "/directory").content

    def sync(self, body: bytes) -> bytes:
        """POST a sync request; a reply the link cuts mid-body is resumed from where it
        stopped (the server keeps large replies), now or at the next call with the same
        request, instead of being fetched again whole."""
        digest = hashlib.sha256(body).digest()
        partial = self._partial if self._partial and self._partial.request == digest else None
        if partial is None:
            partial = self._receive(
                "POST", "/sync", digest, content=body, headers={"Content-Type": wire.CONTENT_TYPE}
            )
        failures = 0
        while not partial.complete:
            if partial.reply_id is None:  # a small reply is not kept: ask again
                self._partial = None
                raise TemporaryFailure("Связь с сервером прервалась.")
            self._partial = partial
            if failures > RESUME_ATTEMPTS:
                percent = len(partial.received) * 100 // max(partial.size, 1)
                raise TemporaryFailure(
                    f"Связь прерывается; получено {percent} % ответа, остальное будет "
                    "получено при следующей синхронизации."
                )
            if failures:
                time.sleep(min(RESUME_PAUSE * 2 ** (failures - 1), 8.0))
            try:
                self._resume(partial)
            except _ReplyGone:
                self._partial = None
                raise TemporaryFailure("Связь прервалась, а сервер уже удалил ответ.") from None
            except TemporaryFailure:
                failures += 1
        self._partial = None
        return bytes(partial.received)

    def _receive(self, method: str, path: str, digest: bytes, **kwargs) -> PartialReply:
        """Send a request and read its body as far as the link lets it."""
        partial: PartialReply | None = None
        try:
            with self._http.stream(
                method,
                f"{self.base_url}/api/v1{path}",
                headers=self._headers() | kwargs.pop("headers", {}),
                **kwargs,
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise_for_status(response)
                partial = PartialReply(
                    request=digest,
                    reply_id=response.headers.get(wire.REPLY_ID_HEADER),
                    size=int(response.headers.get("Content-Length", -1)),
                )
                for chunk in response.iter_raw():
                    partial.received += chunk
                if partial.size < 0:  # no length given: what came whole is all there is
                    partial.size = len(partial.received)
        except httpx.TransportError as exc:
            if partial is None:  # nothing of the reply arrived: the usual failure
                raise self._temporary(exc) from exc
        assert partial is not None
        return partial

    def _resume(self, partial: PartialReply) -> None:
        start = len(partial.received)
        try:
            with self._http.stream(
                "GET",
                f"{self.base_url}/api/v1/sync/replies/{partial.reply_id}",
                headers=self._headers() | {"Range": f"bytes={start}-"},
            ) as response:
                if response.status_code == 404:
                    raise _ReplyGone()
                if response.status_code >= 400:
                    response.read()
                    raise_for_status(response)
                if response.status_code == 200:  # the whole body again
                    partial.received = bytearray()
                for chunk in response.iter_raw():
                    partial.received += chunk
        except httpx.TransportError as exc:
            raise self._temporary(exc) from exc

    # ------------------------------------------------------------------ attachments
    def attachment_progress(self, sha256: str) -> tuple[int, bool]:
        """(bytes the server holds, whether the file is whole and checked)."""
        response = self._call("HEAD", f"/attachments/{sha256}")
        return (
            int(response.headers.get("Upload-Offset", "0")),
            response.headers.get("Upload-Complete") == "1",
        )

    def put_attachment(
        self, sha256: str, start: int, chunk: bytes, total: int, media_type: str
    ) -> tuple[int, bool] | None:
        """Send one chunk at `start`; (bytes held, complete), or None when the server holds
        a different amount than we thought (ask again with `attachment_progress`)."""
        try:
            response = self._http.request(
                "PUT",
                f"{self.base_url}/api/v1/attachments/{sha256}",
                headers=self._headers()
                | {
                    "Content-Type": media_type,
                    "Content-Range": f"bytes {start}-{start + len(chunk) - 1}/{total}",
                },
                content=chunk,
            )
        except httpx.TransportError as exc:
            raise self._temporary(exc) from exc
        if response.status_code == 409:
            return None
        raise_for_status(response)
        body = response.json()
        return int(body["received"]), bool(body["complete"])
