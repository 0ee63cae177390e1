"""First run: the server's address, login and password; online once, then never again — and
again only when the server revokes this laptop's token (a changed password)."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, ProgressBar, Static

from client_tui.app.messages import LoggedIn
from client_tui.services.api import SyncError
from client_tui.services.store_crypto import StoreError

AGAIN_HINT = (
    "Сервер больше не принимает ключ этого компьютера: пароль сменили или устройство "
    "отключили. Войдите с нынешним паролем. Записи на этом компьютере сохранены и уйдут "
    "после входа; журнал здесь будет открываться этим паролем. Esc — позже."
)


class LoginScreen(Screen[None]):
    """`again`: the server revoked this laptop's token (401); the address and login are
    known, the password is asked, and work goes on over the same store."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "later", "Позже", show=False)]

    def __init__(self, *, again: bool = False):
        super().__init__()
        self.again = again

    def compose(self) -> ComposeResult:
        server, login = "", ""
        if self.again:
            status = self.app.session.status()
            server, login = status.server_url, status.login
        with Vertical(id="login-box"):
            if self.again:
                yield Static("[b]Журнал — войдите заново[/b]", id="login-title")
                yield Static(AGAIN_HINT, id="login-hint")
            else:
                yield Static("[b]Журнал — первый вход на этом компьютере[/b]", id="login-title")
                yield Static(
                    "Нужна связь с сервером школы один раз. Потом журнал работает и без сети.",
                    id="login-hint",
                )
            yield Label("Адрес сервера")
            yield Input(server, placeholder="http://10.0.0.5:8000", id="server", compact=True)
            yield Label("Логин")
            yield Input(login, id="login", compact=True)
            yield Label("Пароль")
            yield Input(password=True, id="password", compact=True)
            yield Button("Войти", id="submit", variant="primary", compact=True)
            yield Static("", id="login-error")
            yield ProgressBar(id="first-sync", show_eta=False)

    def on_mount(self) -> None:
        self.query_one("#first-sync", ProgressBar).display = False
        self.query_one("#password" if self.again else "#server", Input).focus()

    def action_later(self) -> None:
        """Back to work offline; entries keep being saved here (F5 asks again)."""
        if self.again:
            self.app.pop_screen()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        order = ["server", "login", "password"]
        index = order.index(event.input.id)
        if index < len(order) - 1:
            self.query_one(f"#{order[index + 1]}", Input).focus()
        else:
            self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.submit()

    def submit(self) -> None:
        server = self.query_one("#server", Input).value.strip()
        login = self.query_one("#login", Input).value.strip()
        password = self.query_one("#password", Input).value
        if not (server and login and password):
            self.show_error("Заполните адрес сервера, логин и пароль.")
            return
        if not server.startswith(("http://", "https://")):
            server = f"http://{server}"
        self.show_error("Вход…")
        self.query_one("#submit", Button).disabled = True
        self.log_in(server, login, password)

    @work(thread=True, exclusive=True, group="login")
    def log_in(self, server: str, login: str, password: str) -> None:
        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(self.show_progress, done, total)

        try:
            report = self.app.session.login(server, login, password, progress=progress)
        except (SyncError, StoreError) as exc:
            self.app.call_from_thread(self.failed, exc.message_ru)
        except ValueError as exc:
            self.app.call_from_thread(self.failed, f"Неверный адрес сервера: {exc}")
        else:
            if report is None:
                self.app.call_from_thread(
                    self.app.notify,
                    "Журналы загружены не полностью: связь прервалась. Загрузка продолжится "
                    "сама, когда связь будет.",
                    severity="warning",
                )
            self.app.call_from_thread(self.app.post_message, LoggedIn())

    def show_progress(self, done: int, total: int) -> None:
        bar = self.query_one("#first-sync", ProgressBar)
        bar.display = True
        bar.update(total=max(total, 1), progress=done)
        self.show_error(f"Загрузка журналов на этот компьютер: {done} из {total}")

    def failed(self, message: str) -> None:
        self.query_one("#submit", Button).disabled = False
        self.show_error(f"Не удалось войти: {message}")

    def show_error(self, text: str) -> None:
        self.query_one("#login-error", Static).update(text)
