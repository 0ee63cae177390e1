"""The directory slice and journal documents for clients."""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, Response, get
from litestar.params import FromPath

from server.auth.guards import requires_journal_staff, requires_staff
from server.deps import CurrentUser, Db
from server.directory import service
from shared.model import Directory, JournalInfo


class DirectoryController(Controller):
    path = "/api/v1"
    tags: ClassVar[list[str]] = ["directory"]

    @get("/directory", guards=[requires_staff], sync_to_thread=True)
    def directory(self, db: Db, principal: CurrentUser) -> Directory:
        """The part of the school directory this person works with."""
        return service.directory_for(db, principal)

    @get("/journals", guards=[requires_staff], sync_to_thread=True)
    def journals(self, db: Db, principal: CurrentUser) -> list[JournalInfo]:
        """Journals this person may open, each marked writable or read-only."""
        return list(service.directory_for(db, principal).journals)

    @get(
        "/journals/{journal_id:str}/document",
        guards=[requires_journal_staff],
        sync_to_thread=True,
        media_type="application/octet-stream",
    )
    def document(
        self, journal_id: FromPath[str], db: Db, principal: CurrentUser
    ) -> Response[bytes]:
        """The journal as a standard Yjs update (binary), readable by any Yjs client."""
        body = service.journal_document(db, principal, journal_id)
        return Response(body, media_type="application/octet-stream")
