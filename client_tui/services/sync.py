"""The sync engine: push what the server lacks, take what we lack, until both state vectors
agree. Never holds the store lock during network I/O, so typing never waits for it.

After a whole refusal it rebuilds the journal on the server's state under a new client id,
replays the still-valid pending events and keeps the refused ones visible in the outbox.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable

import msgspec

from client_tui.services.api import RequestRefused, SyncError, TemporaryFailure
from client_tui.services.journals import JournalBook
from client_tui.services.local_log import LOG_NAME
from client_tui.services.store import (
    ACCEPTED,
    CONFLICT,
    PENDING_STATES,
    REFUSED,
    SENT,
    LocalStore,
)
from shared import wire
from shared.journal import (
    EMPTY_STATE_VECTOR,
    JournalDoc,
    covers,
    decode_state_vector,
    encode_state_vector,
    new_client_id,
)
from shared.model import decode_event
from shared.release import installed_version
from shared.rules import RETROACTIVE_RULES, check_new_events

EXPECTED_RELEASE = "server_client_version"  # settings key: the release the server expects

MAX_ROUNDS = 12
REQUEST_BUDGET = 512 * 1024  # raw update bytes per request; the rest goes in the next one
MAX_BACKOFF_EXPONENT = 30  # 2 s · 2^30 is decades: far past any cap, and never an overflow

log = logging.getLogger("zhurnal.laptop.sync")
FAULT = "Сбой синхронизации"  # a bug, not a missing link: the status line says so


class SyncReport(msgspec.Struct, kw_only=True):
    rounds: int = 0
    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    accepted: int = 0
    refused: int = 0
    rebuilt: list[str] = msgspec.field(default_factory=list)
    complete: bool = False
    files_uploaded: int = 0  # proof documents of achievements the server now holds whole
    files_waiting: int = 0  # kept on the laptop for a later sync


class SyncEngine:
    def __init__(
        self,
        store: LocalStore,
        book: JournalBook,
        transport: Callable[[bytes], bytes],
        files: Callable[[SyncReport], None] | None = None,
    ):
        """`files` sends what travels apart from the documents (achievements' proof
        documents) once the entries are exchanged; its link failures fail the sync too."""
        self.store = store
        self.book = book
        self.transport = transport
        self.files = files

    # ------------------------------------------------------------------ one sync

    def journal_ids(self) -> list[str]:
        """The journals the directory says we may open; others stay local, unsynced."""
        if self.book.directory is None:
            return []
        journals = [j.id for j in self.book.directory.journals]
        return sorted([*journals, *self.book.portfolios()])

    def build_request(
        self, journal_ids: list[str], *, every: bool = False
    ) -> tuple[wire.SyncRequest, list[str]]:
        """Pushes for the journals whose state differs from the server's as last heard (what
        the server lacks, or a pull of what we know it has); one digest of the server states
        we hold for the rest, which the server answers only if they changed. `every`: a push
        (or pull) for each journal, for a one-way trip such as a USB bundle. Marks the pushed
        entries sent."""
        pushes: list[wire.JournalPush] = []
        quiet: list[tuple[str, bytes]] = []
        size = 0
        with self.book.lock:
            for journal_id in journal_ids:
                doc = self.book.doc(journal_id)
                server_sv = bytes(self.store.journal_row(journal_id)["server_sv"])
                local_sv = doc.state_vector()
                base = self.push_base(journal_id, doc, server_sv)
                ours = not covers(base, local_sv)
                if not every and not ours and covers(local_sv, server_sv):
                    quiet.append((journal_id, server_sv))
                    continue
                update = doc.diff(base) if ours else b""
                if pushes and size + len(update) > REQUEST_BUDGET:
                    quiet.append((journal_id, server_sv))  # the next round pushes it
                    continue
                size += len(update)
                pushes.append(
                    wire.JournalPush(journal_id=journal_id, state_vector=local_sv, update=update)
                )
            sent = [p.journal_id for p in pushes if p.update]
            with self.store.transaction():
                for journal_id in sent:
                    waiting = self.store.outbox(journal_id, ["waiting"])
                    self.store.set_outbox_state([e.event_id for e in waiting], SENT)
        request = wire.SyncRequest(
            journals=tuple(pushes),
            quiet=wire.quiet_digest(quiet) if quiet else b"",
            client_version=installed_version(),
        )
        return request, [p.journal_id for p in pushes]

    def sync_once(self, progress: Callable[[int, int], None] | None = None) -> SyncReport:
        """Sync every journal until both sides hold the same state (or MAX_ROUNDS pass). Every
        round also checks the journals it does not push (the digest of their server states),
        so the round that finds nothing left to send either way ends the sync. `progress`
        hears (journals settled, journals in all) after each round."""
        report = SyncReport()
        try:
            journals = self.journal_ids()
            todo = journals
            while todo and report.rounds < MAX_ROUNDS:
                if progress is not None:
                    progress(len(journals) - len(todo) if report.rounds else 0, len(journals))
                report.rounds += 1
                request, _ = self.build_request(journals)
                body = wire.encode(request)
                reply_body = self.transport(body)
                report.requests += 1
                report.bytes_sent += len(body)
                report.bytes_received += len(reply_body)
                reply = wire.decode(reply_body)
                if not isinstance(reply, wire.SyncResponse):
                    raise RequestRefused("Сервер прислал неожиданный ответ.")
                self.apply_response(reply, report)
                shut = {r.journal_id for r in reply.journals if r.rule == "no_access"}
                journals = [j for j in journals if j not in shut]
                todo = self.unsettled(journals)
            report.complete = not todo
            if progress is not None:
                progress(len(journals) - len(todo), len(journals))
            if self.files is not None:
                self.files(report)
        except SyncError as exc:
            with self.book.lock, self.store.transaction():
                self.store.log_sync(False, exc.message_ru)
            raise
        except wire.WireError as exc:
            with self.book.lock, self.store.transaction():
                self.store.log_sync(False, f"Повреждённый ответ сервера: {exc}")
            raise TemporaryFailure("Повреждённый ответ сервера.") from exc
        # under the book's lock: the store's one connection is shared with the typing thread
        with self.book.lock, self.store.transaction():
            self.store.log_sync(
                report.complete,
                "Синхронизация завершена"
                if report.complete
                else "Синхронизация не завершена: осталось несогласованное",
            )
        return report

    def unsettled(self, journal_ids: list[str]) -> list[str]:
        """Journals whose state vectors still differ from the server's (the final exchange),
        other devices' entries that only this laptop still holds aside (`push_base`)."""
        result = []
        with self.book.lock:
            for journal_id in journal_ids:
                doc = self.book.doc(journal_id)
                local = doc.state_vector()
                server = bytes(self.store.journal_row(journal_id)["server_sv"])
                base = self.push_base(journal_id, doc, server)
                if not (covers(base, local) and covers(local, server)):
                    result.append(journal_id)
        return result

    def push_base(self, journal_id: str, doc: JournalDoc, server_sv: bytes) -> bytes:
        """The state to push against: the server's state vector as last heard, raised to ours
        for every Yjs client whose entries another device wrote. The server may lack such
        entries only after it was restored from a backup; it takes no one's entries but their
        author device's (a forged author is refused whole), so their own device brings them
        back and this laptop sends only its own, whatever its outbox says was acknowledged."""
        local = decode_state_vector(doc.state_vector())
        server = decode_state_vector(server_sv)
        ahead = {client: clock for client, clock in local.items() if clock > server.get(client, 0)}
        if not ahead:
            return server_sv
        current = self.store.journal_row(journal_id)["client_id"]
        foreign = {
            client: clock
            for client, clock in ahead.items()
            if client != current  # the usual case: our new entries, nothing to decode
            and doc.client_devices(client) != {self.book.device_id}
        }
        return encode_state_vector({**server, **foreign}) if foreign else server_sv

    # ------------------------------------------------------------------ replies

    def apply_response(self, response: wire.SyncResponse, report: SyncReport) -> None:
        if response.client_version and response.client_version != self.store.get(EXPECTED_RELEASE):
            with self.book.lock, self.store.transaction():
                self.store.put(EXPECTED_RELEASE, response.client_version)
        known = set(self.journal_ids())
        for reply in response.journals:
            if reply.journal_id not in known and reply.outcome is wire.Outcome.DEFERRED:
                continue  # a journal our directory does not list yet: refresh the directory
            if reply.outcome is wire.Outcome.REFUSED:
                self.rebuild(reply, report)
            else:
                self.apply_reply(reply, report)

    def apply_reply(self, reply: wire.JournalReply, report: SyncReport) -> None:
        with self.book.lock:
            doc = self.book.doc(reply.journal_id)
            try:
                with self.store.transaction():
                    if reply.update:
                        before = doc.state_vector()
                        doc.apply(reply.update)
                        if doc.state_vector() != before:
                            self.store.append_doc_update(reply.journal_id, doc.diff(before))
                    if reply.state_vector:
                        self.store.set_server_sv(reply.journal_id, reply.state_vector)
                    accepted, refused = self.settle_outbox(
                        reply.journal_id, doc, reply.state_vector
                    )
            except BaseException:
                self.book.forget(reply.journal_id)
                raise
        report.accepted += accepted
        report.refused += refused

    def settle_late_refusals(self, journal_id: str, state) -> int:
        """An entry the server took can be refused later, when an entry it could not know of
        arrives from another laptop (an exemption covering a mark's day, issue 16): the
        teacher sees it refused, with the reason. Returns how many own entries were newly
        refused, so the sync reports them like any refusal."""
        late = {i: r for i, r in state.refusals.items() if r.rule in RETROACTIVE_RULES}
        if not late:
            return 0
        newly = [
            e
            for e in self.store.outbox(journal_id, [ACCEPTED, *PENDING_STATES, CONFLICT])
            if e.event_id in late
        ]
        for entry in newly:
            refusal = late[entry.event_id]
            self.store.set_outbox_state([entry.event_id], REFUSED, refusal.rule, refusal.reason)
        return len(newly)

    def settle_outbox(self, journal_id: str, doc: JournalDoc, server_sv: bytes) -> tuple[int, int]:
        """Give every own entry the server now holds its final state. Inside a transaction."""
        late = self.settle_late_refusals(journal_id, doc.state())
        pending = self.store.outbox(journal_id, [*PENDING_STATES, CONFLICT, REFUSED])
        state = doc.state()
        # A refused entry the document holds may count again: the server withdrew its
        # refusal when a year closed by mistake was reopened (or refused it anew for another
        # rule). One the server refused whole is not in the document and stays as it is.
        pending = [e for e in pending if e.state != REFUSED or e.event_id in state.events]
        if not pending:
            return 0, late
        # Accepted only when both hold the same: a server refusal of an entry is part of the
        # server's state, and a reply cut by the reply budget brings the server's state vector
        # without its update, so "the server has our entry" alone could hide a refusal.
        local_sv = doc.state_vector()
        server_has_all = (
            bool(server_sv)
            and covers(self.push_base(journal_id, doc, server_sv), local_sv)
            and covers(local_sv, server_sv)
        )
        accepted, refused = 0, late
        for entry in pending:
            if entry.event_id in state.refusals:
                refusal = state.refusals[entry.event_id]
                if (entry.state, entry.rule, entry.message) != (
                    REFUSED,
                    refusal.rule,
                    refusal.reason,
                ):
                    self.store.set_outbox_state(
                        [entry.event_id], REFUSED, refusal.rule, refusal.reason
                    )
                    refused += entry.state != REFUSED
                continue
            key = state.cell_of.get(entry.event_id)
            cell = state.cells.get(key) if key else None
            if (
                cell is not None
                and cell.in_conflict
                and any(e.id == entry.event_id for e in cell.losers)
            ):
                self.store.set_outbox_state(
                    [entry.event_id],
                    CONFLICT,
                    "conflict",
                    "Одновременное исправление другим устройством: "
                    "показано значение с более поздней отметкой времени.",
                )
            elif server_has_all and entry.state != ACCEPTED:
                self.store.set_outbox_state([entry.event_id], ACCEPTED)
                accepted += 1
        return accepted, refused

    def rebuild(self, reply: wire.JournalReply, report: SyncReport) -> None:
        """Start the journal again from the server's state under a new client id, replaying
        the pending entries that still pass the rules; the rest stay visible as refused."""
        journal_id = reply.journal_id
        with self.book.lock:
            # acknowledged entries too: a server restored from a backup may have lost them
            pending = self.store.outbox(journal_id, [*PENDING_STATES, ACCEPTED, CONFLICT])
            blame_all = reply.rule in ("no_access", "no_write_access") or not reply.event_ids
            blamed = {e.event_id for e in pending} if blame_all else set(reply.event_ids)
            doc = JournalDoc(reply.update or None, client_id=new_client_id())
            replay, refused = [], []
            for entry in pending:
                if entry.event_id in doc:
                    continue
                if entry.event_id in blamed:
                    refused.append(entry)
                    continue
                try:
                    replay.append(decode_event(entry.body))
                except (msgspec.ValidationError, msgspec.DecodeError):
                    refused.append(entry)
            violations = []
            if replay and self.book.directory is not None and not blame_all:
                try:
                    ctx = self.book.context(journal_id)
                except KeyError:
                    ctx = None
                if ctx is not None:
                    violations = check_new_events(doc.state(), replay, ctx)
            bad = {v.event_id: v for v in violations}
            good = [e for e in replay if e.id not in bad]
            if good:
                doc.add(good)
            try:
                with self.store.transaction():
                    self.store.put_journal(
                        journal_id, doc.client_id, reply.state_vector or EMPTY_STATE_VECTOR
                    )
                    self.store.replace_doc(journal_id, doc.snapshot())
                    self.store.set_outbox_state(
                        [e.event_id for e in refused], REFUSED, reply.rule, reply.message_ru
                    )
                    for event_id, violation in bad.items():
                        self.store.set_outbox_state(
                            [event_id], REFUSED, violation.rule, violation.message_ru
                        )
                    self.store.set_outbox_state([e.id for e in good], "waiting")
            finally:
                self.book.forget(journal_id)
        report.refused += len(refused) + len(bad)
        report.rebuilt.append(journal_id)


class BackgroundSync:
    """Runs sync in a thread whenever the server answers; exponential backoff with jitter.

    The loop cannot die: whatever one round raises is logged with its traceback to the
    laptop's log, shown in Russian, and the next round comes after a capped delay. Weeks
    offline mean many thousand failed rounds, so the delay never comes from an unbounded
    power. `clock` and `sleep` are injected so a test can run 60 days in seconds."""

    def __init__(
        self,
        engine: SyncEngine,
        *,
        interval: float = 60.0,
        base_delay: float = 2.0,
        max_delay: float = 600.0,
        on_result: Callable[[SyncReport | None, str], None] | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] | None = None,
    ):
        self.engine = engine
        self.interval = interval
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.on_result = on_result or (lambda report, message: None)
        self.rng = rng or random.Random()
        self.sleep = sleep or self._wait
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0
        self.last_failure: BaseException | None = None  # what the last round raised

    def next_delay(self) -> float:
        """Full jitter: a random wait between half and all of base·2^(failures-1), capped."""
        if self.failures == 0:
            return self.interval
        exponent = min(self.failures - 1, MAX_BACKOFF_EXPONENT)
        ceiling = min(self.max_delay, self.base_delay * 2.0**exponent)
        return self.rng.uniform(ceiling / 2, ceiling)

    def sync_now(self) -> None:
        self._wake.set()

    def _wait(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def step(self) -> float:
        """One round: sync, report, and return how long to wait before the next one."""
        try:
            report = self.engine.sync_once()
        except SyncError as exc:
            self.failures += 1
            self.last_failure = exc
            self._report(None, exc.message_ru)
        except BaseException as exc:  # pycrdt's PanicException is a BaseException
            if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                raise
            self.failures += 1
            self.last_failure = exc
            log.exception("sync round failed (failure %d in a row)", self.failures)
            self._report(None, f"{FAULT} ({type(exc).__name__}): подробности в {LOG_NAME}.")
        else:
            self.failures = 0
            self.last_failure = None
            self._report(report, "")
        return self.next_delay()

    def _report(self, report: SyncReport | None, message: str) -> None:
        try:
            self.on_result(report, message)
        except Exception:  # the screen may be closing; the loop must go on
            log.exception("sync result could not be shown")

    def run(self) -> None:
        while not self._stop.is_set():
            delay = self.step()
            if self._stop.is_set():
                break
            self.sleep(delay)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="zhurnal-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
