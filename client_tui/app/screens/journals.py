"""«Мои журналы»: the journals this teacher keeps, and (read-only) their class's others."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from client_tui.app.screens.bundle import BundleScreen
from client_tui.app.screens.grid import GridScreen
from client_tui.app.screens.problems import ProblemsScreen
from client_tui.app.widgets.status_bar import StatusBar

READ_ONLY = "только чтение"


class JournalsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "app.help", "Помощь"),
        Binding("enter", "open", "Открыть", show=True),
        Binding("f6", "problems", "Конфликты"),
        Binding("f9", "bundle", "Флешка"),
        Binding("ctrl+s", "app.sync_now", "Синхр.", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Static("", id="journals-title", classes="title")
        table: DataTable = DataTable(id="journals", cursor_type="row", zebra_stripes=False)
        yield table
        yield Static(
            "Enter — открыть журнал. «только чтение» — журналы вашего класса по чужим "
            "предметам: смотреть можно, менять нельзя.",
            id="journals-hint",
        )
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#journals", DataTable)
        table.add_column("Класс", key="class")
        table.add_column("Предмет", key="subject")
        table.add_column("Доступ", key="mode")
        table.add_column("Ждут", key="pending")
        table.add_column("Конфл.", key="conflicts")
        table.add_column("Откл.", key="refused")
        self.fill()
        table.focus()

    def fill(self) -> None:
        session = self.app.session
        directory = session.book.directory
        login = session.status().login
        school = directory.school.name if directory else ""
        self.query_one("#journals-title", Static).update(f"[b]Мои журналы[/b]  {school}  ({login})")
        table = self.query_one("#journals", DataTable)
        cursor = table.cursor_row
        table.clear()
        for summary in session.book.summaries():
            table.add_row(
                summary.class_name,
                summary.subject_name,
                "запись" if summary.info.writable else READ_ONLY,
                str(summary.pending or ""),
                str(summary.conflicts or ""),
                str(summary.refused or ""),
                key=summary.info.id,
            )
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def on_screen_resume(self) -> None:
        self.fill()

    def after_sync(self) -> None:
        if self.app.screen is self:
            self.fill()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.open_journal(str(event.row_key.value))

    def action_open(self) -> None:
        table = self.query_one("#journals", DataTable)
        if table.row_count:
            row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
            self.open_journal(str(row_key.value))

    def open_journal(self, journal_id: str) -> None:
        self.app.push_screen(GridScreen(journal_id))

    def action_problems(self) -> None:
        self.app.push_screen(ProblemsScreen())

    def action_bundle(self) -> None:
        self.app.push_screen(BundleScreen())
