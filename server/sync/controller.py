"""POST /api/v1/sync: msgpack + zlib in, msgpack + zlib out."""

from __future__ import annotations

import secrets
import time
from typing import ClassVar

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from server import housekeeping
from server.auth.guards import requires_journal_staff, requires_supervisors
from server.deps import Config, CurrentUser, Db
from server.errors import BadRequest, NotFound, RangeNotSatisfiable, UnsupportedMediaType
from server.storage import journals as journal_storage
from server.storage.db import transaction
from server.sync.service import SyncService
from shared import wire
from shared.journal import decode_state_vector


def _check_protocol(protocol: int | None, install_url: str) -> None:
    if protocol is not None and protocol != wire.PROTOCOL_VERSION:
        text = (
            wire.PROTOCOL_TOO_OLD_RU
            if protocol < wire.PROTOCOL_VERSION
            else wire.PROTOCOL_TOO_NEW_RU
        )
        raise BadRequest(
            text.format(got=protocol, want=wire.PROTOCOL_VERSION, install=install_url),
            code="protocol_version",
        )


def _parse(body: bytes, install_url: str = "/install") -> wire.SyncRequest:
    try:
        message = wire.decode(body)
    except wire.WireError as exc:
        # another release's message may not decode as ours: say so rather than "malformed"
        _check_protocol(wire.peek_protocol(body), install_url)
        raise BadRequest(f"Неверный запрос синхронизации: {exc}", code="bad_sync_body") from exc
    _check_protocol(getattr(message, "protocol", None), install_url)
    if not isinstance(message, wire.SyncRequest):
        raise BadRequest("Ожидался запрос синхронизации.", code="bad_sync_body")
    for push in message.journals:
        try:
            decode_state_vector(push.state_vector)
        except ValueError as exc:
            raise BadRequest("Неверный вектор состояния журнала.", code="bad_sync_body") from exc
    return message


def _range_start(header: str | None, size: int) -> int:
    """The N of `Range: bytes=N-`; 0 without one. Other forms are not needed by our client."""
    if not header:
        return 0
    unit, _, spec = header.partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip() != "bytes" or not dash or last or not first.isdigit():
        raise BadRequest("Поддерживается только диапазон вида bytes=N-.", code="bad_range")
    start = int(first)
    if start >= size:
        raise RangeNotSatisfiable(f"Ответ короче {start} байт.")
    return start


class SyncController(Controller):
    path = "/api/v1"
    tags: ClassVar[list[str]] = ["sync"]

    @post(
        "/sync",
        guards=[requires_journal_staff],
        status_code=200,
        request_max_body_size=wire.MAX_REQUEST_BYTES,
        media_type=wire.CONTENT_TYPE,
    )
    async def sync(
        self, request: Request, db: Db, config: Config, principal: CurrentUser
    ) -> Response[bytes]:
        """Push what the server lacks, receive what the client lacks (see shared/wire.py).

        Body and reply are `application/x-zhurnal-sync`: zlib-compressed msgpack of
        `SyncRequest` / `SyncResponse`. Idempotent: retries and duplicates are safe.
        """
        if request.headers.get("Content-Type", "").split(";")[0].strip() != wire.CONTENT_TYPE:
            raise UnsupportedMediaType(
                f"Запрос синхронизации должен иметь тип {wire.CONTENT_TYPE}.", code="bad_sync_type"
            )
        message = _parse(await request.body(), f"{str(request.base_url).rstrip('/')}/install")

        def run() -> tuple[bytes, dict[str, str]]:
            housekeeping.run_due(db)
            documents = request.app.state.documents
            directories = request.app.state.directories
            service = SyncService(db, config, principal, documents, directories)
            body = wire.encode(service.sync(message))
            if len(body) <= wire.RESUMABLE_REPLY_BYTES:
                return body, {}
            reply_id = secrets.token_urlsafe(16)
            with transaction(db):
                journal_storage.keep_reply(db, reply_id, principal.device_id, body, time.time())
            return body, {wire.REPLY_ID_HEADER: reply_id, "Accept-Ranges": "bytes"}

        body, headers = await anyio.to_thread.run_sync(run)
        return Response(body, media_type=wire.CONTENT_TYPE, headers=headers)

    @get("/sync/replies/{reply_id:str}", guards=[requires_journal_staff], sync_to_thread=True)
    def sync_reply(
        self, request: Request, reply_id: FromPath[str], db: Db, principal: CurrentUser
    ) -> Response[bytes]:
        """The rest of a sync reply the link cut: `Range: bytes=N-` gives it from byte N.

        Only the device that made the request may fetch it; replies are kept a day, the last
        few per device. Gone: 404, and the client simply syncs again (sync is idempotent).
        """
        body = journal_storage.kept_reply(db, reply_id, principal.device_id)
        if body is None:
            raise NotFound("Ответ синхронизации уже удалён: синхронизируйте заново.")
        start = _range_start(request.headers.get("Range"), len(body))
        if start == 0:
            return Response(body, media_type=wire.CONTENT_TYPE)
        return Response(
            body[start:],
            status_code=206,
            media_type=wire.CONTENT_TYPE,
            headers={"Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}"},
        )

    @get("/quarantine", guards=[requires_supervisors], sync_to_thread=True)
    def quarantine(self, db: Db, principal: CurrentUser) -> list[dict]:
        """Updates refused whole, with their reasons, for a person to look at: one's own
        school's only (the first bytes and the digest of each, not the update itself)."""
        return journal_storage.quarantined(db, school_id=principal.school_id or "")
