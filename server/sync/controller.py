"""POST /api/v1/sync: msgpack + zlib in, msgpack + zlib out."""

from __future__ import annotations

from typing import ClassVar

import anyio
from litestar import Controller, Request, Response, get, post

from server.auth.guards import requires_journal_staff, requires_supervisors
from server.deps import Config, CurrentUser, Db
from server.errors import BadRequest
from server.storage import journals as journal_storage
from server.sync.service import SyncService
from shared import wire
from shared.journal import decode_state_vector


def _parse(body: bytes) -> wire.SyncRequest:
    try:
        message = wire.decode(body)
    except wire.WireError as exc:
        raise BadRequest(f"Неверный запрос синхронизации: {exc}", code="bad_sync_body") from exc
    if not isinstance(message, wire.SyncRequest):
        raise BadRequest("Ожидался запрос синхронизации.", code="bad_sync_body")
    if message.protocol != wire.PROTOCOL_VERSION:
        raise BadRequest(
            f"Версия протокола {message.protocol} не поддерживается; обновите программу.",
            code="protocol_version",
        )
    for push in message.journals:
        try:
            decode_state_vector(push.state_vector)
        except ValueError as exc:
            raise BadRequest("Неверный вектор состояния журнала.", code="bad_sync_body") from exc
    return message


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
        message = _parse(await request.body())

        def run() -> bytes:
            documents = request.app.state.documents
            return wire.encode(SyncService(db, config, principal, documents).sync(message))

        return Response(await anyio.to_thread.run_sync(run), media_type=wire.CONTENT_TYPE)

    @get("/quarantine", guards=[requires_supervisors], sync_to_thread=True)
    def quarantine(self, db: Db) -> list[dict]:
        """Updates refused whole, with their reasons, for a person to look at."""
        return journal_storage.quarantined(db)
