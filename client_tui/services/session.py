"""A teacher's profile on this laptop: login once online, then work from the local store.

This is the service layer the headless CLI and the Textual screens both call.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import platform
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import msgspec
import platformdirs

from client_tui.services import store_crypto
from client_tui.services.api import RequestRefused, ServerApi, SyncError
from client_tui.services.describe import EntryView, describe_entry
from client_tui.services.journals import JournalBook
from client_tui.services.local_log import close_local_log, open_local_log
from client_tui.services.portfolio import WAITING, Portfolio, upload_pending
from client_tui.services.store import CONFLICT, PENDING_STATES, REFUSED, LocalStore, OutboxEntry
from client_tui.services.store_crypto import StoreLocked
from client_tui.services.sync import EXPECTED_RELEASE, SyncEngine, SyncReport
from shared import wire
from shared.model import Directory
from shared.release import installed_version, is_newer

Transport = Callable[[bytes], bytes]


def default_home() -> Path:
    """$ZHURNAL_HOME, else the platform's place for a user's data: ~/.local/share/zhurnal on
    Linux ($XDG_DATA_HOME honoured, where it always was), %LOCALAPPDATA%\\zhurnal on Windows."""
    env = os.environ.get("ZHURNAL_HOME")
    if env:
        return Path(env)
    home = Path(platformdirs.user_data_dir("zhurnal", appauthor=False, roaming=False))
    legacy = Path.home() / ".local" / "share" / "zhurnal"  # before platformdirs, on any system
    return legacy if not home.exists() and legacy.is_dir() else home


PAST_DIRECTORIES = "past_directories"  # earlier years' directories (msgpack), newest first
KEEP_PAST_YEARS = 2  # the journals of the last two years stay listed, read-only


class NotLoggedIn(Exception):
    message_ru = "Сначала войдите: journal login --server АДРЕС --login ЛОГИН"


class Status(msgspec.Struct, frozen=True, kw_only=True):
    logged_in: bool
    server_url: str
    login: str
    pending: int
    refused: int
    conflicts: int
    last_sync_ok_at: float | None
    last_attempt_at: float | None
    last_error: str
    update_version: str = ""  # a newer release the server offers; "" when up to date


class BadServerAddress(ValueError):
    """A server address that is not http(s)://host[:port][/path]; the message is Russian."""


def check_server_address(url: str) -> str:
    """The address as `Session` stores it (no trailing slash), or BadServerAddress."""
    example = "например http://10.0.0.5:8000"
    if " " in url.strip():
        raise BadServerAddress(f"В адресе сервера «{url}» пробел: {example}.")
    try:
        parsed = httpx.URL(url.strip())
        port = parsed.port  # httpx checks the range
    except (httpx.InvalidURL, ValueError, TypeError):
        raise BadServerAddress(f"Адрес сервера «{url}» не распознан: {example}.") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise BadServerAddress(
            f"Адрес сервера «{url}» должен начинаться с http:// или https:// и содержать "
            f"имя или IP-адрес сервера: {example}."
        )
    if port is not None and not 1 <= port <= 65535:
        raise BadServerAddress(f"Порт в адресе сервера «{url}» — от 1 до 65535: {example}.")
    if parsed.userinfo or parsed.query or parsed.fragment:
        raise BadServerAddress(
            f"В адресе сервера «{url}» лишнее (имя, пароль, «?» или «#»): {example}."
        )
    return str(parsed).rstrip("/")


class Session:
    def __init__(
        self,
        home: Path | None = None,
        profile: str = "default",
        *,
        password: str | None = None,
        transport: Transport | None = None,
        http: httpx.Client | None = None,
    ):
        """The store is encrypted: it opens with the teacher's password (`password` here, or
        `unlock` later, as the app's unlock screen does); a laptop with no store yet gets one
        at `login`. `transport` replaces the sync link (tests, fault injection); `http` the
        HTTP client."""
        self.home = home or default_home()
        self._http = http
        self.profile = profile
        self.store_path = self.home / profile / "store.sqlite"
        self.log_handler = open_local_log(self.home / profile)
        self.lock = threading.RLock()
        self._transport = transport
        self._api: ServerApi | None = None
        self._store: LocalStore | None = None
        self._book: JournalBook | None = None
        if password is not None and store_crypto.exists(self.store_path):
            try:
                self.unlock(password)
            except BaseException:
                close_local_log(self.log_handler)
                raise

    def close(self) -> None:
        if self._api is not None and self._http is None:
            self._api.close()
        if self._store is not None:
            try:
                self.book.compact()
            except Exception:  # closing must close; the log is squashed next time instead
                logging.getLogger("zhurnal.laptop").exception("compaction at close failed")
            self._store.close()
            self._store = None
        close_local_log(self.log_handler)

    # ------------------------------------------------------------------ the store's lock
    @property
    def locked(self) -> bool:
        """A store is on this laptop and waits for its password."""
        return self._store is None and store_crypto.exists(self.store_path)

    @property
    def plain_store(self) -> bool:
        """A store of a release before encryption: the first password typed will key it."""
        return self._store is None and store_crypto.is_plain(self.store_path)

    def check_store(self) -> None:
        """StoreDamaged for a file no password would open, before one is asked."""
        store_crypto.check_recognised(self.store_path)

    def unlock(self, password: str, *, step: store_crypto.Step | None = None) -> None:
        """Open the store offline (a plain one is encrypted first); WrongPassword otherwise."""
        with self.lock:
            if self._store is not None:
                return
            self._store = LocalStore.open(self.store_path, password, step=step)
            self._book = self._make_book()

    @property
    def store(self) -> LocalStore:
        if self._store is None:
            raise StoreLocked() if self.locked else NotLoggedIn()
        return self._store

    @property
    def book(self) -> JournalBook:
        if self._book is None:
            raise StoreLocked() if self.locked else NotLoggedIn()
        return self._book

    def _make_book(self) -> JournalBook:
        raw = self.store.get("directory")
        directory = msgspec.msgpack.decode(raw, type=Directory) if raw else None
        past = self.store.get(PAST_DIRECTORIES)
        return JournalBook(
            self.store,
            self.lock,
            person_id=self.store.get("person_id", ""),
            device_id=self.store.get("device_id", ""),
            directory=directory,
            past=msgspec.msgpack.decode(past, type=tuple[Directory, ...]) if past else (),
        )

    # ------------------------------------------------------------------ profile
    @property
    def logged_in(self) -> bool:
        return self._store is not None and bool(self._store.get("token"))

    @property
    def directory(self) -> Directory:
        if self.book.directory is None:
            raise NotLoggedIn()
        return self.book.directory

    def api(self) -> ServerApi:
        if self._api is None:
            self._api = ServerApi(
                self.store.get("server_url", ""), self.store.get("token"), http=self._http
            )
        return self._api

    def login(
        self,
        server_url: str,
        login: str,
        password: str,
        device_name: str | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
        first_sync: bool = True,
    ) -> SyncReport | None:
        """Online once: register this laptop as a device, fetch the directory and then the
        teacher's journals (the first sync), so a link lost right after login leaves full
        journals. A first sync cut short returns None: what came is kept, and the next sync
        resumes from the state vectors (the status line tells it is unfinished).
        The local store is keyed with the password the server has just accepted: made with
        it on a new laptop, re-keyed when the teacher changed it (a locked store must be
        unlocked first, with the password it has).
        `first_sync=False`: registration only (benchmarks that measure the first sync)."""
        api = ServerApi(server_url, http=self._http)
        again = {}  # logging in again (a revoked token): ask for this laptop's own device back
        if self._store is not None and self._store.get("login") == login:
            again = {
                "device_id": self._store.get("device_id", ""),
                "token": self._store.get("token", ""),
            }
        try:
            token = api.login(login, password, device_name or platform.node() or "ноутбук", **again)
        finally:
            if self._http is None:
                api.close()
        with self.lock:
            if self._store is None:
                self.unlock(password)  # made now on a new laptop
            elif not self._store.opens_with(password):
                self._store.rekey(password)  # the password was changed: the store follows
        with self.lock, self.store.transaction():
            self.store.put("server_url", server_url.rstrip("/"))
            self.store.put("login", token["login"])
            self.store.put("token", token["token"])
            self.store.put("device_id", token["device_id"])
            self.store.put("person_id", token["person_id"])
        self._api = None
        self.refresh_directory()
        return self.first_sync(progress) if first_sync else None

    def first_sync(self, progress: Callable[[int, int], None] | None = None) -> SyncReport | None:
        try:
            report = self.engine().sync_once(progress)
        except SyncError:
            return None  # logged in the sync log: the status shows it, the next sync resumes
        except Exception:  # a bug must not undo a login that worked; the next sync retries
            logging.getLogger("zhurnal.laptop").exception("first sync after login failed")
            return None
        return report if report.complete else None

    def refresh_directory(self) -> Directory:
        raw = self.api().directory()
        directory = msgspec.json.decode(raw, type=Directory)
        with self.lock:
            old, past = self.book.directory, self.book.past
            if old is not None and old.year.id != directory.year.id:
                # a new school year: the old year's journals stay on this laptop, read-only
                kept = [d for d in past if d.year.id not in (old.year.id, directory.year.id)]
                past = (old, *kept)[:KEEP_PAST_YEARS]
            with self.store.transaction():
                self.store.put("directory", msgspec.msgpack.encode(directory))
                self.store.put(PAST_DIRECTORIES, msgspec.msgpack.encode(past))
            self._book = self._make_book()
        return directory

    def change_server(self, url: str) -> str:
        """Point this laptop at the school server's new address; the device, its token and
        every entry stay (no new registration). Returns the address as stored."""
        address = check_server_address(url)
        if not self.logged_in:
            raise NotLoggedIn()
        with self.lock, self.store.transaction():
            self.store.put("server_url", address)
        if self._api is not None and self._http is None:
            self._api.close()
        self._api = None
        return address

    # ------------------------------------------------------------------ sync
    def transport(self) -> Transport:
        if self._transport is not None:
            return self._transport
        if not self.logged_in:
            raise NotLoggedIn()
        return self.api().sync

    def engine(self) -> SyncEngine:
        return SyncEngine(self.store, self.book, self.transport(), files=self.send_files)

    def send_files(self, report: SyncReport) -> None:
        """Upload the kept proof documents of achievements (after their entries are synced),
        resuming each from what the server holds. Nothing to send: no request at all."""
        with self.lock:
            if not self.store.attachments([WAITING]):
                return
        result = upload_pending(self.book, self.api())
        report.files_uploaded += result.uploaded
        report.files_waiting += result.waiting

    @property
    def portfolio(self) -> Portfolio:
        """Achievements of the classes whose portfolio this person keeps."""
        return Portfolio(self.book)

    def sync(self) -> SyncReport:
        return self.engine().sync_once()

    def status(self) -> Status:
        with self.lock:
            counts = self.store.outbox_counts()
            ok = self.store.last_sync(True)
            last = self.store.last_sync()
        return Status(
            logged_in=self.logged_in,
            server_url=self.store.get("server_url", ""),
            login=self.store.get("login", ""),
            pending=sum(counts.get(s, 0) for s in PENDING_STATES),
            refused=counts.get(REFUSED, 0),
            conflicts=counts.get(CONFLICT, 0),
            last_sync_ok_at=ok["at"] if ok else None,
            last_attempt_at=last["at"] if last else None,
            last_error="" if last is None or last["ok"] else last["message"],
            update_version=self.update_version(),
        )

    def update_version(self) -> str:
        """The release the server expects when it is newer than this program (heard at the
        last sync); the update installs from the server's /install page or a stick."""
        expected = self.store.get(EXPECTED_RELEASE, "")
        return expected if is_newer(expected, installed_version()) else ""

    def rejected(self) -> list[OutboxEntry]:
        return self.store.outbox(states=[REFUSED])

    def conflicted(self) -> list[OutboxEntry]:
        return self.store.outbox(states=[CONFLICT])

    def pending(self) -> list[OutboxEntry]:
        return self.store.outbox(states=PENDING_STATES)

    def problems(self) -> list[EntryView]:
        """Own entries the server refused or that collided, described for a person; they stay
        listed (the outbox keeps them) whatever happens next."""
        journals = {j.id for j in self.book.directory.journals} if self.book.directory else set()
        journals |= set(self.book.portfolios())
        views = []
        with self.lock:
            for entry in self.store.outbox(states=[REFUSED, CONFLICT]):
                state = self.book.state(entry.journal_id) if entry.journal_id in journals else None
                views.append(describe_entry(entry, self.book.directory, state))
        return views

    # ------------------------------------------------------------------ USB bundles
    def _mac_key(self) -> bytes:
        token = self.store.get("token")
        if not token:
            raise NotLoggedIn()
        return hashlib.sha256(token.encode()).digest()

    def export_bundle(self, path: Path) -> int:
        """Write everything the server lacks to a file for a USB stick; returns its size."""
        engine = self.engine_offline()
        request, _ = engine.build_request(engine.journal_ids(), every=True)
        body = wire.encode(request)
        bundle = wire.Bundle(
            device_id=self.store.get("device_id"),
            login=self.store.get("login"),
            created_ms=int(time.time() * 1000),
            body=body,
            mac=hmac.new(self._mac_key(), body, hashlib.sha256).digest(),
        )
        data = wire.encode(bundle)
        store_crypto.write_durably(path, data)
        return len(data)

    def import_bundle(self, path: Path) -> SyncReport:
        """Take the server's reply bundle brought back on the USB stick."""
        bundle = wire.decode(path.read_bytes())
        if not isinstance(bundle, wire.Bundle):
            raise RequestRefused("Это не файл обмена журнала.")
        expected = hmac.new(self._mac_key(), bundle.body, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, bundle.mac):
            raise RequestRefused("Файл обмена подписан не для этого устройства или повреждён.")
        response = wire.decode(bundle.body)
        if not isinstance(response, wire.SyncResponse):
            raise RequestRefused("В файле нет ответа сервера.")
        report = SyncReport(rounds=1, bytes_received=len(bundle.body))
        engine = self.engine_offline()
        engine.apply_response(response, report)
        report.complete = not engine.unsettled(engine.journal_ids())
        with self.lock, self.store.transaction():
            self.store.log_sync(True, f"Принят файл обмена {path.name}")
        return report

    def engine_offline(self) -> SyncEngine:
        def no_link(_: bytes) -> bytes:
            raise RequestRefused("Обмен через файл не обращается к сети.")

        return SyncEngine(self.store, self.book, no_link)
