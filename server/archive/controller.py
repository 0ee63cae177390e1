"""Closing the year and authorising corrections over HTTP, for the administration's pages."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from server.archive import closing, retention
from server.auth.guards import requires_roles
from server.deps import CurrentUser, Db
from shared.model import CorrectionGrant, Role, YearClosure

requires_closers = requires_roles(*closing.CLOSERS)
requires_granters = requires_roles(*closing.GRANTERS)
requires_director = requires_roles(Role.DIRECTOR)
requires_records = requires_roles(*retention.RECORDS_ROLES)


class CloseYear(msgspec.Struct, frozen=True, kw_only=True):
    """The day is the server's (in the school's time zone), never the caller's."""

    early_reason: Annotated[str, msgspec.Meta(max_length=500)] = ""  # the director's, early


class ReopenYear(msgspec.Struct, frozen=True, kw_only=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class GrantRequest(msgspec.Struct, frozen=True, kw_only=True):
    person_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    reason: Annotated[str, msgspec.Meta(max_length=500)]
    days: int = closing.DEFAULT_GRANT_DAYS


class RetentionRow(msgspec.Struct, frozen=True, kw_only=True):
    category: str
    title: str
    years: int
    counted_from: str
    basis: str


class ArchiveController(Controller):
    path = "/api/v1"
    tags: ClassVar[list[str]] = ["archive"]

    @post("/years/{year_id:str}/close", guards=[requires_closers], sync_to_thread=True)
    def close_year(
        self, year_id: FromPath[str], data: JSONBody[CloseYear], db: Db, principal: CurrentUser
    ) -> YearClosure:
        """Close a school year (000 §7.1): its journals take only authorised corrections."""
        return closing.close_year(
            db, login=principal.login, year_id=year_id, early_reason=data.early_reason
        )

    @post("/years/{year_id:str}/reopen", guards=[requires_director], sync_to_thread=True)
    def reopen_year(
        self, year_id: FromPath[str], data: JSONBody[ReopenYear], db: Db, principal: CurrentUser
    ) -> dict[str, str]:
        """Undo a mistaken close (director, with a reason, logged)."""
        restored = closing.reopen_year(
            db, login=principal.login, year_id=year_id, reason=data.reason
        )
        return {
            "message": "Учебный год снова открыт: журналы принимают записи. Записей, "
            f"отклонённых из-за закрытия года и теперь принятых: {restored}."
        }

    @post("/journals/{journal_id:str}/corrections", guards=[requires_granters], sync_to_thread=True)
    def grant(
        self,
        journal_id: FromPath[str],
        data: JSONBody[GrantRequest],
        db: Db,
        principal: CurrentUser,
    ) -> CorrectionGrant:
        """Allow one person to correct one journal of a closed year (000 §5.3)."""
        return closing.grant_correction(
            db,
            login=principal.login,
            journal_id=journal_id,
            person_id=data.person_id,
            reason=data.reason,
            days=data.days,
        )

    @get("/archive/retention", guards=[requires_records], sync_to_thread=True)
    def retention_schedule(self, db: Db, principal: CurrentUser) -> list[RetentionRow]:
        """The school's retention schedule (REQUIREMENTS defaults unless it changed them)."""
        return [
            RetentionRow(
                category=c.id,
                title=c.title,
                years=c.years,
                counted_from=c.counted_from,
                basis=c.basis,
            )
            for c in retention.schedule(db, principal.school_id)
        ]
