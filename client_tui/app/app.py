"""JournalApp: screens and bindings; the state it keeps is the session and the sync thread."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.timer import Timer

from client_tui.app.keys import InOrderKeys
from client_tui.app.messages import EntrySaved, LoggedIn, SyncFinished, Unlocked
from client_tui.app.screens.help import HelpScreen
from client_tui.app.screens.journals import JournalsScreen
from client_tui.app.screens.login import LoginScreen
from client_tui.app.screens.unlock import UnlockScreen
from client_tui.app.widgets.status_bar import Connection, StatusInfo
from client_tui.services.api import NotAuthorized
from client_tui.services.editor import JournalEditor
from client_tui.services.session import Session
from client_tui.services.sync import FAULT, BackgroundSync, SyncReport

SYNC_INTERVAL = 60.0
IDLE_COMPACT = 2.0  # seconds without an entry before the journal's update log is squashed


class JournalApp(InOrderKeys):
    """Электронный журнал учителя."""

    CSS_PATH = "app.tcss"
    TITLE = "Журнал"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Помощь", show=False),
        Binding("f5", "sync_now", "Синхр."),
        Binding("ctrl+s", "sync_now", "Синхр.", show=False),
        Binding("ctrl+q", "quit", "Выход", priority=True),
    ]

    status: reactive[StatusInfo] = reactive(StatusInfo, always_update=True)

    def __init__(
        self,
        session: Session | None = None,
        *,
        home: Path | None = None,
        profile: str = "default",
        sync_interval: float = SYNC_INTERVAL,
        background_sync: bool = True,
        today: Callable[[], dt.date] = dt.date.today,
    ):
        """`session` is for tests (an in-process server's transport); otherwise one is opened
        on `home`/`profile`. `today` fixes the date in tests and snapshots."""
        super().__init__()
        self.session = session or Session(home, profile)
        self._owns_session = session is None
        self.sync_interval = sync_interval
        self.background_sync = background_sync
        self.today = today
        self.connection = Connection.UNKNOWN
        self.editor: JournalEditor | None = None
        self.sync: BackgroundSync | None = None
        self._last_error = ""
        self._compact_timer: Timer | None = None
        self._relogin_asked = False

    # ------------------------------------------------------------------ lifecycle
    def on_mount(self) -> None:
        if self.session.locked:
            self.push_screen(UnlockScreen())
        else:
            self.after_unlock()

    def after_unlock(self) -> None:
        if self.session.logged_in and self.session.book.directory is not None:
            self.start_work()
        else:
            self.push_screen(LoginScreen())

    def on_unlocked(self, message: Unlocked) -> None:
        self.pop_screen()
        self.after_unlock()

    def start_work(self) -> None:
        """Every start after the first: the local store is enough; the link is a bonus."""
        self.editor = JournalEditor(self.session.book)
        self.refresh_status()
        self.push_screen(JournalsScreen())
        if self.background_sync:
            sync = BackgroundSync(self.session.engine(), interval=self.sync_interval)

            def on_result(report: SyncReport | None, error: str) -> None:
                revoked = isinstance(sync.last_failure, NotAuthorized)
                self.post_message(SyncFinished(report, error, revoked=revoked))

            sync.on_result = on_result
            self.sync = sync
            self.sync.start()

    def on_logged_in(self, message: LoggedIn) -> None:
        """The first login, or a login again after the server revoked this laptop's token:
        work starts afresh (a new token, the sync with it) over the same local store."""
        if self.sync is not None:
            self.sync.stop(timeout=2.0)
            self.sync = None
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self._relogin_asked = False
        self._last_error = ""
        self.start_work()

    def on_unmount(self) -> None:
        if self.sync is not None:
            self.sync.stop(timeout=2.0)
        if self._owns_session:
            self.session.close()

    # ------------------------------------------------------------------ status
    def refresh_status(self) -> None:
        fault = self._last_error if self._last_error.startswith(FAULT) else ""
        self.status = StatusInfo.from_status(self.session.status(), self.connection, fault)

    def on_sync_finished(self, message: SyncFinished) -> None:
        self.connection = Connection.OFFLINE if message.error else Connection.ONLINE
        if message.revoked and not self._relogin_asked:  # asked once; F5 asks again
            self._relogin_asked = True
            self.push_screen(LoginScreen(again=True))
        new_error = message.error and message.error != self._last_error
        self._last_error = message.error
        self.refresh_status()
        if new_error:  # once, not on every retry
            self.notify(
                f"Нет синхронизации: {message.error} Записи сохранены на этом компьютере.",
                severity="warning",
            )
        if message.report is not None and message.report.refused:
            self.notify(
                f"Сервер отклонил записей: {message.report.refused}. Подробности — F6.",
                severity="warning",
            )
        for screen in self.screen_stack:
            handler = getattr(screen, "after_sync", None)
            if handler is not None:
                handler()

    def on_entry_saved(self, message: EntrySaved) -> None:
        self.refresh_status()
        if self._compact_timer is not None:
            self._compact_timer.stop()
        self._compact_timer = self.set_timer(IDLE_COMPACT, self.session.book.compact)

    # ------------------------------------------------------------------ actions
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_sync_now(self) -> None:
        if self.sync is None:
            self.notify("Синхронизация выключена.", severity="warning")
            return
        self.connection = Connection.SYNCING
        self.refresh_status()
        self._relogin_asked = False
        self.sync.sync_now()
