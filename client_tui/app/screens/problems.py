"""Conflicts and refused entries: what collided or was refused, why, and what to do.

The list comes from the outbox, which keeps every own entry with its state: nothing leaves it,
so nothing disappears before a person has seen it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from client_tui.app.widgets.status_bar import StatusBar


class ProblemsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Назад")]

    def compose(self) -> ComposeResult:
        yield Static("[b]Конфликты и отклонённые записи[/b]", classes="title")
        yield VerticalScroll(id="problems")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.fill()
        self.query_one("#problems").focus()

    def fill(self) -> None:
        box = self.query_one("#problems", VerticalScroll)
        box.remove_children()
        views = self.app.session.problems()
        if not views:
            box.mount(Static("Конфликтов и отклонённых записей нет. Всё в порядке."))
            return
        for view in views:
            box.mount(
                Static(
                    f"[b]{view.state.upper()}[/b]  {escape(view.journal)}  ({view.when})\n"
                    f"  Запись: {escape(view.what)}\n"
                    f"  Почему: {escape(view.why)}\n"
                    f"  Что делать: {escape(view.todo)}",
                    classes="problem",
                )
            )

    def after_sync(self) -> None:
        if self.app.screen is self:
            self.fill()

    def action_back(self) -> None:
        self.app.pop_screen()
