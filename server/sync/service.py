"""The sync decision: check every incoming event, store the update whole or not at all.

Per journal, in one IMMEDIATE transaction: load the document, apply the push to it while
observing exactly which event keys it adds or changes, check the sender's rights and every new
event against the shared rules, append server-authored refusals for events that break a rule
(so every replica converges and the teacher sees why), write the update log and the
consolidated rows. An update that is malformed, forged or from someone who may not write is
refused whole and quarantined; the sender rebuilds on the server's state.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from server.archive import personal_file
from server.auth.access import journals_for, portfolios_for
from server.auth.principal import Principal
from server.config import ServerConfig
from server.storage import archive as archive_storage
from server.storage import journals as storage
from server.storage import school_time
from server.storage.db import get_meta, set_meta, transaction
from server.sync.consolidate import (
    SERVER_DEVICE,
    Withdrawal,
    consolidate_portfolio,
    refusal_events,
    with_closed_periods,
    withdraw,
)
from server.sync.directory_cache import DirectoryCache
from server.sync.documents import DocumentCache
from shared.fold import SERVER_EVENTS
from shared.hlc import Clock, read_stamp
from shared.journal import EMPTY_STATE_VECTOR, JournalDoc
from shared.model import (
    Directory,
    JournalEvent,
    JournalInfo,
    Refused,
    decode_event,
    encode_event,
    is_portfolio_id,
)
from shared.release import installed_version
from shared.rules import (
    JournalContext,
    check_new_events,
    displaced_by_exemption,
    lifted_exemptions,
)
from shared.wire import (
    JournalPush,
    JournalReply,
    Outcome,
    SyncRequest,
    SyncResponse,
    quiet_digest,
)


class WholeRefusal(Exception):
    """The push is refused whole; nothing of it is stored, it goes to quarantine."""

    def __init__(self, rule: str, message_ru: str, event_ids: tuple[str, ...] = ()):
        super().__init__(message_ru)
        self.rule, self.message_ru, self.event_ids = rule, message_ru, event_ids


class NeedsResend(Exception):
    """The update depends on items the server lacks; the client must diff against our state."""


def server_client_id(conn: sqlite3.Connection) -> int:
    """The Yjs client id the server writes refusals under, made once per database."""
    value = get_meta(conn, "server_client_id")
    if value is None:
        with transaction(conn):
            value = get_meta(conn, "server_client_id")
            if value is None:
                value = str(secrets.randbits(53) or 1)
                set_meta(conn, "server_client_id", value)
                storage.bind_client(conn, int(value), SERVER_DEVICE, time.time())
    return int(value)


@dataclass
class ApplyResult:
    outcome: Outcome
    doc: JournalDoc
    refused_ids: tuple[str, ...] = ()


class SyncService:
    def __init__(
        self,
        conn: sqlite3.Connection,
        config: ServerConfig,
        principal: Principal,
        documents: DocumentCache | None = None,
        directories: DirectoryCache | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.conn = conn
        self.clock = clock
        self.config = config
        self.principal = principal
        self.documents = documents or DocumentCache()
        self.directories = directories or DirectoryCache()
        self.server_client = server_client_id(conn)
        self._directory: Directory | None = None

    @property
    def directory(self) -> Directory:
        if self._directory is None:
            self._directory = self.directories.load(self.conn, school_id=self.principal.school_id)
        return self._directory

    # ------------------------------------------------------------------ the request

    def sync(self, request: SyncRequest) -> SyncResponse:
        # subject journals and the class portfolio documents travel the same way
        readable = journals_for(self.principal, self.directory) | portfolios_for(
            self.principal, self.directory
        )
        spent = 0
        replies: list[JournalReply] = []
        # A request that writes is one transaction, each journal a savepoint in it: one disk
        # sync per request instead of one per journal (the district burst's main cost once
        # the directory was cached). A journal refused or failed is undone alone.
        writes = any(push.update for push in request.journals)
        try:
            with transaction(self.conn) if writes else contextlib.nullcontext():
                for push in request.journals:
                    reply = self._one(
                        push,
                        readable.get(push.journal_id),
                        budget_left=spent < self.config.reply_budget_bytes,
                    )
                    spent += len(reply.update)
                    replies.append(reply)
        except BaseException:
            for push in request.journals:  # they may hold what the rollback undid
                self.documents.drop(push.journal_id)
            raise
        if request.quiet:
            replies += self._quiet(request, readable)
        return SyncResponse(
            journals=tuple(replies),
            server_time_ms=int(time.time() * 1000),
            client_version=installed_version(),  # older laptops hear «доступно обновление»
        )

    def _quiet(self, request: SyncRequest, readable: dict[str, JournalInfo]) -> list[JournalReply]:
        """The journals the client did not push: nothing if their states are what the client
        last heard of (the digest matches), else each one's state vector, to ask about."""
        pushed = {push.journal_id for push in request.journals}
        quiet = sorted(set(readable) - pushed)
        states = storage.state_vectors(self.conn, quiet)
        current = [(j, states.get(j, EMPTY_STATE_VECTOR)) for j in quiet]
        if quiet_digest(current) == request.quiet:
            return []
        return [
            JournalReply(journal_id=j, outcome=Outcome.DEFERRED, state_vector=sv)
            for j, sv in current
        ]

    def _one(
        self, push: JournalPush, journal: JournalInfo | None, *, budget_left: bool
    ) -> JournalReply:
        if journal is None:
            refusal = WholeRefusal(
                "no_access",
                "Нет доступа к портфолио этого класса: его ведут классный руководитель, учителя "
                "класса и администрация."
                if is_portfolio_id(push.journal_id)
                else "Нет доступа к этому журналу: вы не ведёте этот предмет в этом классе.",
            )
            if push.update:
                self._quarantine(push, refusal)
            return JournalReply(
                journal_id=push.journal_id,
                outcome=Outcome.REFUSED,
                rule=refusal.rule,
                message_ru=refusal.message_ru,
            )
        with self.documents.lock(journal.id):
            return self._reply(push, journal, budget_left=budget_left)

    def _reply(self, push: JournalPush, journal: JournalInfo, *, budget_left: bool) -> JournalReply:
        try:
            result = (
                self._apply(journal, push)
                if push.update
                else ApplyResult(Outcome.UNCHANGED, self._load(journal))
            )
        except NeedsResend:
            doc = self._load(journal)
            return JournalReply(
                journal_id=journal.id,
                outcome=Outcome.RESEND,
                state_vector=doc.state_vector(),
                message_ru="Сервер ждёт предыдущие изменения; отправьте заново.",
            )
        except WholeRefusal as refusal:
            self._quarantine(push, refusal)
            doc = self._load(journal)
            return JournalReply(
                journal_id=journal.id,
                outcome=Outcome.REFUSED,
                state_vector=doc.state_vector(),
                update=doc.snapshot(),
                rule=refusal.rule,
                message_ru=refusal.message_ru,
                event_ids=refusal.event_ids,
            )
        outcome = result.outcome
        update = b""
        if budget_left:
            update = result.doc.diff(push.state_vector or EMPTY_STATE_VECTOR)
        elif outcome is Outcome.UNCHANGED:
            outcome = Outcome.DEFERRED
        return JournalReply(
            journal_id=journal.id,
            outcome=outcome,
            state_vector=result.doc.state_vector(),
            update=update,
            event_ids=result.refused_ids,
        )

    def _load(self, journal: JournalInfo) -> JournalDoc:
        return self.documents.load(self.conn, journal.id, self.server_client)

    # ------------------------------------------------------------------ applying a push

    def _apply(self, journal: JournalInfo, push: JournalPush) -> ApplyResult:
        try:
            with transaction(self.conn):
                return self._apply_in_transaction(journal, push)
        except BaseException:
            self.documents.drop(journal.id)  # it may hold what the rollback undid
            raise

    def _apply_in_transaction(self, journal: JournalInfo, push: JournalPush) -> ApplyResult:
        now = time.time()
        storage.ensure_journal(self.conn, journal, now)
        doc = self._load(journal)
        log_rows = storage.update_count(self.conn, journal.id)
        before = doc.state()
        sv_before = doc.state_vector()
        try:
            effect = doc.apply(push.update)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # pycrdt raises ValueError, or a Rust panic, on garbage
            raise WholeRefusal("malformed_update", "Повреждённые данные синхронизации.") from exc
        if effect.changed or effect.removed:
            raise WholeRefusal(
                "events_are_immutable",
                "Записи журнала нельзя изменять или удалять: исправление — это новая запись.",
                tuple(effect.changed) + tuple(effect.removed),
            )
        if not effect.integrated:
            raise NeedsResend()
        if not effect.added:
            if effect.new_clients:
                raise WholeRefusal("unexpected_content", "Обновление не содержит записей журнала.")
            # Nothing stored, but the document may now hold what the update left pending (a
            # deletion of items it has not seen): answer from the database's copy instead.
            self.documents.drop(journal.id)
            return ApplyResult(Outcome.UNCHANGED, self._load(journal))
        if sum(effect.new_clients.values()) != len(effect.added):
            # An event is one plain string under a new key: exactly one Yjs clock tick.
            # Anything more (a shared Text or Map as a value, another root type) is content
            # the events map does not show and could be edited later, unchecked.
            raise WholeRefusal(
                "unexpected_content",
                "Обновление содержит данные помимо записей журнала: отклонено.",
                tuple(effect.added),
            )
        self._check_client_ids(effect.new_clients)
        added = self._decode_added(effect.added)
        self._check_stamps(journal, added)
        if not journal.writable:
            raise WholeRefusal(
                "no_write_access",
                "Журнал доступен только для чтения: вы не ведёте этот предмет в этом классе "
                "(000 §4.5, §5.5).",
                tuple(e.id for e in added),
            )
        ctx = with_closed_periods(
            self.conn, self.directories.context(self.directory, journal), journal
        )
        violations = check_new_events(before, added, ctx)
        displaced = displaced_by_exemption(before, added, ctx, violations)  # issue 16
        violations += displaced
        refusals = self._refusals(doc, violations, added)
        if (
            isinstance(ctx, JournalContext)
            and ctx.closure is not None
            and ctx.closure.year_id == journal.year_id
        ):
            self._log_corrections(journal, added, violations, now)
        if refusals:
            doc.add(refusals)
        lifted = self._lift_exemptions(doc, added, ctx, violations)  # issue 16
        for client_id in effect.new_clients:
            storage.bind_client(self.conn, client_id, self.principal.device_id, now)
        if log_rows + 1 >= self.config.squash_after_updates:
            storage.squash(self.conn, journal.id, doc.snapshot(), now)
        else:
            storage.append_update(
                self.conn, journal.id, doc.diff(sv_before), self.principal.device_id, now
            )
        server_events = [*refusals, *(lifted.new if lifted else ())]
        new_events = [*added, *server_events]
        folded = doc.state()
        raw = effect.added | {r.id: encode_event(r) for r in server_events}
        storage.insert_events(
            self.conn, journal.id, [(raw[e.id], e) for e in new_events], folded, now
        )
        # a mark stored earlier and refused now (an exemption arrived late) leaves its cell
        # empty, so no cell write reaches it; one an exemption no longer covers counts again
        statuses = [v.event_id for v in displaced] + (lifted.status_ids() if lifted else [])
        storage.refresh_statuses(self.conn, statuses, folded)
        touched = [folded.cell_of[e.id] for e in added if e.id in folded.cell_of]
        touched += [before.cell_of[v.event_id] for v in displaced]
        touched += lifted.touched(folded) if lifted else []
        if isinstance(ctx, JournalContext):
            storage.write_cells(self.conn, journal.id, folded, touched)
            if ctx.closure is not None and ctx.closure.year_id == journal.year_id:
                personal_file.refresh_journal(self.conn, journal.id, now)  # a corrected year mark
        else:
            consolidate_portfolio(self.conn, journal, folded, touched)
        storage.set_state(self.conn, journal.id, doc.state_vector(), len(folded.events), now)
        self.documents.keep(self.conn, journal.id, doc)
        return ApplyResult(Outcome.ACCEPTED, doc, tuple(r.supersedes[0] for r in refusals))

    def _log_corrections(self, journal: JournalInfo, added, violations, now: float) -> None:
        """A closed year took an authorised correction: keep who, what, why and the grant."""
        refused = {v.event_id for v in violations}
        grants = {
            g.person_id: g.id for g in self.directory.corrections if g.journal_id == journal.id
        }
        archive_storage.log_corrections(
            self.conn,
            journal.id,
            [(grants[e.author], e) for e in added if e.id not in refused and e.author in grants],
            now,
        )

    def _check_client_ids(self, new_clients: dict[int, int]) -> None:
        for client_id in new_clients:
            owner = storage.bound_device(self.conn, client_id)
            if owner is not None and owner != self.principal.device_id:
                raise WholeRefusal(
                    "forged_client_id",
                    "Идентификатор клиента принадлежит другому устройству: обновление отклонено.",
                )

    def _decode_added(self, added: dict[str, str]) -> list[JournalEvent]:
        events: list[JournalEvent] = []
        for key, raw in added.items():
            try:
                event = decode_event(raw)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                raise WholeRefusal(
                    "malformed_event", f"Запись журнала повреждена или неверна: {exc}", (key,)
                ) from exc
            if event.id != key:
                raise WholeRefusal("malformed_event", "Ключ записи не совпадает с её id.", (key,))
            if isinstance(event, SERVER_EVENTS):
                raise WholeRefusal(
                    "forged_refusal", "Отказ или его отмену может записать только сервер.", (key,)
                )
            if event.author != self.principal.person_id or event.device != self.principal.device_id:
                raise WholeRefusal(
                    "forged_author",
                    "Запись подписана другим автором или устройством: обновление отклонено.",
                    (key,),
                )
            events.append(event)
        return events

    def _check_stamps(self, journal: JournalInfo, added: list[JournalEvent]) -> None:
        """Clocks are input: a stamp must be well-formed, made by the pushing device, not
        ahead of the server's clock by more than the allowed skew, and not before the year."""
        now_ms = int(self.clock() * 1000)
        latest = now_ms + self.config.max_clock_ahead_seconds * 1000
        earliest = school_time.year_starts_ms(self.conn, journal.year_id) or 0
        earliest -= 24 * 3600 * 1000  # a day's grace for a zone set wrongly on the laptop
        malformed, ahead, behind = [], [], []
        for event in added:
            stamp = read_stamp(event.hlc)
            if stamp is None or stamp[2] != self.principal.device_id:
                malformed.append(event.id)
            elif stamp[0] > latest:
                ahead.append(event.id)
            elif stamp[0] < earliest:
                behind.append(event.id)
        if malformed:
            raise WholeRefusal(
                "bad_stamp",
                "Отметка времени записи повреждена или сделана другим устройством: "
                "обновление отклонено.",
                tuple(malformed),
            )
        if ahead or behind:
            zone = school_time.zone(self.conn, self.principal.school_id)
            server_now = dt.datetime.fromtimestamp(now_ms / 1000, tz=zone)
            raise WholeRefusal(
                "clock_ahead" if ahead else "clock_behind",
                f"Часы этого компьютера {'спешат' if ahead else 'отстают'}: на сервере сейчас "
                f"{server_now:%d.%m.%Y %H:%M}. Установите на компьютере правильные дату, время "
                "и часовой пояс и введите эти записи снова. Записи сохранены на компьютере "
                "и видны в списке отклонённых.",
                tuple(ahead or behind),
            )

    def _lift_exemptions(
        self, doc: JournalDoc, added: list[JournalEvent], ctx, violations
    ) -> Withdrawal | None:
        """Marks refused because an exemption covered their day, which this push retracted,
        replaced or narrowed: their refusals are withdrawn in the same update (checked again
        against every rule), so they count again on every replica (docs/DESIGN.md)."""
        state = doc.state()
        lifted = lifted_exemptions(state, added, ctx, violations)
        if not lifted:
            return None
        reasons = sorted(
            {
                e.reason
                for e in added
                if e.reason and state.cell_of.get(e.id, ("",))[0] == "period_mark"
            }
        )
        note = "Освобождение отменено или изменено" + (f": {'; '.join(reasons)}" if reasons else "")
        made = withdraw(doc, state, lifted, ctx, note)
        doc.add(made.new)
        return made

    def _refusals(self, doc: JournalDoc, violations, added: list[JournalEvent]) -> list[Refused]:
        if not violations:
            return []
        clock = Clock(SERVER_DEVICE)
        for event in added:
            clock.observe(event.hlc)
        return refusal_events(doc, violations, clock)

    def _quarantine(self, push: JournalPush, refusal: WholeRefusal) -> None:
        with transaction(self.conn):
            storage.quarantine(
                self.conn,
                now=time.time(),
                device_id=self.principal.device_id,
                login=self.principal.login,
                journal_id=push.journal_id,
                rule=refusal.rule,
                message_ru=refusal.message_ru,
                event_ids=refusal.event_ids,
                body=push.update,
                school_id=self.principal.school_id,
            )
