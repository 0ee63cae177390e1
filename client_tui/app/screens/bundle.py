"""Exchange through a USB stick when the school has no link at all."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from client_tui.app.messages import EntrySaved
from client_tui.services.api import SyncError
from client_tui.services.session import NotLoggedIn


class BundleScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Закрыть")]

    def compose(self) -> ComposeResult:
        login = self.app.session.status().login or "journal"
        with Vertical(classes="form"):
            yield Static("[b]Обмен через флешку[/b]")
            yield Static(
                "1) «Записать» — файл для сервера школы. 2) На сервере: "
                "journal-server import-bundle ФАЙЛ --reply ОТВЕТ. 3) «Принять» — файл ответа."
            )
            yield Label("Файл")
            yield Input(str(Path.home() / f"{login}.bundle"), id="path", compact=True)
            with Horizontal(classes="form-buttons"):
                yield Button("Записать", id="export", variant="primary", compact=True)
                yield Button("Принять ответ", id="import", compact=True)
                yield Button("Закрыть", id="close", compact=True)
            yield Static("", classes="form-error", id="bundle-result")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "close":
            self.dismiss(None)
            return
        path = Path(self.query_one("#path", Input).value.strip()).expanduser()
        self.exchange(event.button.id, path)

    @work(thread=True, exclusive=True, group="bundle")
    def exchange(self, action: str, path: Path) -> None:
        session = self.app.session
        try:
            if action == "export":
                size = session.export_bundle(path)
                text = f"Записан {path} ({size} Б). Отнесите файл на сервер школы."
            else:
                report = session.import_bundle(path)
                text = f"Ответ принят: принято {report.accepted}, отклонено {report.refused}."
        except (SyncError, NotLoggedIn) as exc:
            text = f"Ошибка: {exc.message_ru}"
        except OSError as exc:
            text = f"Ошибка файла: {exc.strerror or exc}"
        except ValueError as exc:
            text = f"Ошибка: файл повреждён ({exc})"
        self.app.call_from_thread(self.show, text)

    def show(self, text: str) -> None:
        self.query_one("#bundle-result", Static).update(text)
        self.post_message(EntrySaved())

    def action_close(self) -> None:
        self.dismiss(None)
