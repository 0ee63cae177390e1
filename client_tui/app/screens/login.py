"""First run: the server's address, login and password; online once, then never again."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, ProgressBar, Static

from client_tui.app.messages import LoggedIn
from client_tui.services.api import SyncError
from client_tui.services.store_crypto import StoreError


class LoginScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        with Vertical(id="login-box"):
            yield Static("[b]Журнал — первый вход на этом компьютере[/b]", id="login-title")
            yield Static(
                "Нужна связь с сервером школы один раз. Потом журнал работает и без сети.",
                id="login-hint",
            )
            yield Label("Адрес сервера")
            yield Input(placeholder="http://10.0.0.5:8000", id="server", compact=True)
            yield Label("Логин")
            yield Input(id="login", compact=True)
            yield Label("Пароль")
            yield Input(password=True, id="password", compact=True)
            yield Button("Войти", id="submit", variant="primary", compact=True)
            yield Static("", id="login-error")
            yield ProgressBar(id="first-sync", show_eta=False)

    def on_mount(self) -> None:
        self.query_one("#first-sync", ProgressBar).display = False
        self.query_one("#server", Input).focus()

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
