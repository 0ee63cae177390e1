"""Every start after the first: the journal on this laptop is encrypted; its password opens
it offline. A store of an earlier release is encrypted here with the password typed twice."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from client_tui.app.messages import Unlocked
from client_tui.services.store_crypto import StoreError

FIRST_KEY_HINT = (
    "Журнал на этом компьютере будет зашифрован паролем, который вы введёте (тот же, что для "
    "входа на сервер школы). Без него записи, ещё не отправленные на сервер, не открыть."
)


class UnlockScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        first = self.app.session.plain_store
        with Vertical(id="login-box"):
            yield Static("[b]Журнал зашифрован на этом компьютере[/b]", id="login-title")
            yield Static(
                FIRST_KEY_HINT if first else "Введите пароль, с которым входили в журнал.",
                id="login-hint",
            )
            yield Label("Пароль")
            yield Input(password=True, id="password", compact=True)
            if first:
                yield Label("Пароль ещё раз")
                yield Input(password=True, id="again", compact=True)
            yield Button("Открыть", id="submit", variant="primary", compact=True)
            yield Static("", id="login-error")

    def on_mount(self) -> None:
        self.query_one("#password", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "password" and self.query("#again"):
            self.query_one("#again", Input).focus()
        else:
            self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.submit()

    def submit(self) -> None:
        password = self.query_one("#password", Input).value
        if not password:
            self.show_error("Введите пароль.")
            return
        again = self.query("#again")
        if again and again.first(Input).value != password:
            self.show_error("Пароли не совпали.")
            return
        self.show_error("Открываю…")
        self.query_one("#submit", Button).disabled = True
        self.open_store(password)

    @work(thread=True, exclusive=True, group="unlock")
    def open_store(self, password: str) -> None:
        """In a thread: the key takes Argon2id's time, a first encryption copies the store."""
        try:
            self.app.session.unlock(password)
        except StoreError as exc:
            self.app.call_from_thread(self.failed, exc.message_ru)
        else:
            self.app.call_from_thread(self.app.post_message, Unlocked())

    def failed(self, message: str) -> None:
        self.query_one("#submit", Button).disabled = False
        self.query_one("#password", Input).value = ""
        self.query_one("#password", Input).focus()
        self.show_error(message)

    def show_error(self, text: str) -> None:
        self.query_one("#login-error", Static).update(text)
