"""Proof documents of achievements, sent apart from the sync and resumable on a bad link.

`HEAD /api/v1/attachments/{sha256}`: how many bytes the server holds (`Upload-Offset`) and
whether the file is complete. `PUT` with `Content-Range: bytes a-b/total` appends the chunk
that starts at the offset the server holds; when the last byte arrives the server checks the
SHA-256, the size and the type by its first bytes, and either keeps the file or drops it
whole with the reason in Russian. A file already complete is answered as complete
(an upload repeated is harmless). `GET` gives the file to those who may see the pupil.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from typing import ClassVar

import anyio
from litestar import Controller, Request, Response, get, head, put
from litestar.params import FromPath

from server import housekeeping
from server.auth.access import may_see_student_portfolio, portfolios_for
from server.auth.guards import requires_any_user, requires_roles
from server.auth.principal import Principal
from server.deps import CurrentUser, Db
from server.errors import AccessDenied, AppError, BadRequest, NotFound
from server.storage import attachments as storage
from server.storage import web as web_storage
from server.storage.db import transaction
from server.web.people import audit, consent_given, directory_of
from shared.model import ADMINISTRATION, Role
from shared.portfolio import (
    ATTACHMENT_TYPES,
    MAX_ATTACHMENT_BYTES,
    content_problem,
    sniff_media_type,
)

CHUNK_LIMIT = 1024 * 1024  # one PUT carries at most this much
# bytes of unfinished uploads the server holds per device and per school; unfinished uploads
# are dropped after a day (server/housekeeping.py)
DEVICE_PARTIAL_QUOTA = 2 * MAX_ATTACHMENT_BYTES
SCHOOL_PARTIAL_QUOTA = 20 * MAX_ATTACHMENT_BYTES
OFFSET_HEADER = "Upload-Offset"
COMPLETE_HEADER = "Upload-Complete"
_SHA = re.compile(r"^[0-9a-f]{64}$")
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")

# who sends proof documents: those who keep portfolios (the class teacher, the teachers of
# the class, the administration); which files each may send is checked against the entries
requires_portfolio_keepers = requires_roles(Role.TEACHER, *ADMINISTRATION)


class TooLarge(AppError):
    status = 413
    code = "too_large"


class UnsupportedType(AppError):
    status = 415
    code = "unsupported_type"


class OffsetMismatch(AppError):
    status = 409
    code = "offset_mismatch"


class Unacceptable(AppError):
    status = 422
    code = "attachment_refused"


def _sha(value: str) -> str:
    if not _SHA.fullmatch(value):
        raise BadRequest("Неверная контрольная сумма файла (нужен SHA-256).", code="bad_sha256")
    return value


def _content_range(header: str | None, length: int) -> tuple[int, int]:
    """(start, total) of `Content-Range: bytes a-b/total`, checked against the body length."""
    found = _RANGE.fullmatch((header or "").strip())
    if found is None:
        raise BadRequest(
            "Нужен заголовок Content-Range вида «bytes начало-конец/размер».", code="bad_range"
        )
    start, end, total = (int(g) for g in found.groups())
    if end - start + 1 != length or end >= total:
        raise BadRequest("Content-Range не совпадает с размером части файла.", code="bad_range")
    return start, total


def _progress(row: sqlite3.Row | None) -> dict[str, str]:
    received = row["received"] if row else 0
    complete = bool(row and row["completed_at"] is not None)
    return {OFFSET_HEADER: str(received), COMPLETE_HEADER: "1" if complete else "0"}


def _may_upload(conn: sqlite3.Connection, principal: Principal, sha256: str) -> None:
    """The file must be the proof named by an achievement entry of a portfolio the caller
    keeps: nobody stores files the portfolio does not cite."""
    keeps = portfolios_for(principal, directory_of(conn, principal))
    if not storage.portfolios_citing(conn, sha256) & set(keeps):
        raise AccessDenied(
            "Этот файл не приложен ни к одному достижению в портфолио ваших классов: "
            "сначала синхронизируйте запись о достижении."
        )


def _may_read(conn: sqlite3.Connection, principal: Principal, sha256: str) -> None:
    """Refused attempts, and every staff view of a pupil's document, go to the audit log."""
    students = storage.students_citing(conn, sha256)
    student = min(students) if students else None
    if principal.is_staff:
        directory = directory_of(conn, principal)
        allowed = any(may_see_student_portfolio(principal, directory, s) for s in students)
    elif principal.has(Role.PARENT, Role.STUDENT):
        # the family's own child only, and only with the consent electronic access needs
        # (000 §5.5, 152-FZ), as for the diary (server/web/people.py)
        own = (
            set(web_storage.children_of(conn, principal.person_id))
            if principal.has(Role.PARENT)
            else {principal.person_id}
        )
        allowed = any(consent_given(conn, principal, s) for s in students & own)
    else:
        allowed = False
    if not allowed:
        audit(conn, principal, "achievement_document", student_id=student, outcome="refused")
        raise AccessDenied("Этот документ относится к портфолио другого обучающегося.")
    if principal.is_staff:
        audit(conn, principal, "achievement_document", student_id=student, detail=sha256)


class AttachmentController(Controller):
    path = "/api/v1/attachments"
    tags: ClassVar[list[str]] = ["portfolio"]

    @head("/{sha256:str}", guards=[requires_portfolio_keepers], sync_to_thread=True)
    def progress(self, sha256: FromPath[str], db: Db) -> Response[None]:
        """How much of the file the server holds: `Upload-Offset` (0 if nothing yet) and
        `Upload-Complete` (1 once it is whole and checked)."""
        return Response(None, headers=_progress(storage.status(db, _sha(sha256))))

    @put(
        "/{sha256:str}",
        guards=[requires_portfolio_keepers],
        status_code=200,
        request_max_body_size=CHUNK_LIMIT,
    )
    async def upload(
        self, request: Request, sha256: FromPath[str], db: Db, principal: CurrentUser
    ) -> Response[dict]:
        """Append one chunk (`Content-Range`, `Content-Type` = the file's media type)."""
        sha256 = _sha(sha256)
        chunk = await request.body()
        start, total = _content_range(request.headers.get("Content-Range"), len(chunk))
        media_type = request.headers.get("Content-Type", "").split(";")[0].strip()
        if total > MAX_ATTACHMENT_BYTES:
            raise TooLarge("Файл больше 10 МБ: приложите скан меньшего размера.")
        if media_type not in ATTACHMENT_TYPES:
            raise UnsupportedType("Документ должен быть в формате PDF, PNG или JPEG.")
        if start == 0 and sniff_media_type(chunk[:16]) != media_type:
            problem = content_problem(chunk, media_type)
            raise Unacceptable(problem or "Содержимое файла не совпадает с его типом.")

        def run() -> Response[dict]:
            housekeeping.run_due(db)
            _may_upload(db, principal, sha256)
            with transaction(db):
                answer = self._append(db, principal, sha256, media_type, start, total, chunk)
            if isinstance(answer, str):  # dropped whole (committed), then refused
                raise Unacceptable(answer)
            return answer

        return await anyio.to_thread.run_sync(run)

    @staticmethod
    def _append(
        db: sqlite3.Connection,
        principal: Principal,
        sha256: str,
        media_type: str,
        start: int,
        total: int,
        chunk: bytes,
    ) -> Response[dict] | str:
        """The answer, or why the file, now whole, is refused (it is then already dropped)."""
        now = time.time()
        row = storage.status(db, sha256)
        if row is not None and row["completed_at"] is not None:
            return Response({"received": row["size"], "complete": True}, headers=_progress(row))
        if row is not None and (row["size"], row["media_type"]) != (total, media_type):
            raise BadRequest(
                "Размер или тип файла не совпадает с начатой загрузкой.", code="upload_mismatch"
            )
        received = row["received"] if row else 0
        if start != received:
            raise OffsetMismatch(
                f"Сервер ждёт продолжение файла с байта {received}.", code="offset_mismatch"
            )
        device, school = storage.partial_bytes(
            db, device_id=principal.device_id, school_id=principal.school_id
        )
        if device + len(chunk) > DEVICE_PARTIAL_QUOTA or school + len(chunk) > SCHOOL_PARTIAL_QUOTA:
            raise TooLarge(
                "Слишком много начатых и не законченных загрузок документов: дождитесь их "
                "окончания или повторите через сутки.",
                code="upload_quota",
            )
        if row is None:
            storage.begin(
                db,
                sha256,
                media_type,
                total,
                principal.login,
                now,
                device_id=principal.device_id,
                school_id=principal.school_id,
            )
        received = storage.write_chunk(db, sha256, start, chunk)
        if received < total:
            row = storage.status(db, sha256)
            return Response({"received": received, "complete": False}, headers=_progress(row))
        body = storage.body(db, sha256)
        problem = content_problem(body, media_type)
        if problem is None and hashlib.sha256(body).hexdigest() != sha256:
            problem = "Файл повреждён при передаче (контрольная сумма не совпала): отправьте снова."
        if problem is not None:
            storage.discard(db, sha256)
            return problem
        storage.complete(db, sha256, now)
        return Response(
            {"received": received, "complete": True}, headers=_progress(storage.status(db, sha256))
        )

    @get("/{sha256:str}", guards=[requires_any_user], sync_to_thread=True)
    def download(self, sha256: FromPath[str], db: Db, principal: CurrentUser) -> Response[bytes]:
        """The file, for those who may see a pupil whose portfolio cites it."""
        sha256 = _sha(sha256)
        _may_read(db, principal, sha256)
        row = storage.status(db, sha256)
        if row is None or row["completed_at"] is None:
            raise NotFound("Документ ещё не загружен с ноутбука учителя.")
        return Response(storage.body(db, sha256), media_type=row["media_type"])
