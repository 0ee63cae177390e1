"""The month grid widget: a table drawn line by line, so one typed mark redraws one line.

Textual's DataTable re-renders every visible cell whenever any cell changes; on an old
laptop with 30 pupils × 25 lessons that is a few hundred milliseconds per keypress. Here each
row's text is kept ready, a keypress rewrites one row and refreshes one line, and scrolling
is by whole rows and columns. The first `fixed` columns (№, name) never scroll away.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

HEADER = Style(bold=True)
CURSOR = Style(reverse=True, bold=True)
CURSOR_ROW = Style(bold=True)
ITALIC = Style(italic=True)
MORE_LEFT, MORE_RIGHT = "◀", "▶"


class JournalGrid(Widget, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1, 0)", show=False),
        Binding("down", "move(1, 0)", show=False),
        Binding("left", "move(0, -1)", show=False),
        Binding("right", "move(0, 1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "edge(-1)", show=False),
        Binding("end", "edge(1)", show=False),
        Binding("enter", "select", show=False),
    ]

    class CursorMoved(Message):
        def __init__(self, row_key: str, column_key: str):
            super().__init__()
            self.row_key, self.column_key = row_key, column_key

    class Selected(Message):
        """Enter on a cell."""

        def __init__(self, row_key: str, column_key: str):
            super().__init__()
            self.row_key, self.column_key = row_key, column_key

    def __init__(self, *, fixed: int = 2, id: str | None = None):
        super().__init__(id=id)
        self.fixed = fixed
        self.columns: list[tuple[str, str, int]] = []  # key, label, width
        self.row_keys: list[str] = []
        self.cells: list[list[str]] = []
        self.italic_rows: set[str] = set()
        self._row_index: dict[str, int] = {}
        self._column_index: dict[str, int] = {}
        self._cursor = Coordinate(0, fixed)
        self._top = 0  # first visible row
        self._first = fixed  # first visible scrolling column

    # ------------------------------------------------------------------ data
    def set_data(
        self,
        columns: list[tuple[str, str, int]],
        rows: list[tuple[str, list[str]]],
        italic_rows: set[str] = frozenset(),
    ) -> None:
        self.columns = columns
        self.row_keys = [key for key, _ in rows]
        self.cells = [list(cells) for _, cells in rows]
        self.italic_rows = set(italic_rows)
        self._row_index = {key: i for i, key in enumerate(self.row_keys)}
        self._column_index = {key: i for i, (key, _, _) in enumerate(columns)}
        self.move_cursor(row=self._cursor.row, column=self._cursor.column, quiet=True)
        self.refresh()

    def update_cell(self, row_key: str, column_key: str, text: str) -> None:
        row = self._row_index[row_key]
        self.cells[row][self._column_index[column_key]] = text
        self.refresh_row(row)

    def get_row(self, row_key: str) -> list[str]:
        return list(self.cells[self._row_index[row_key]])

    def get_row_index(self, row_key: str) -> int:
        return self._row_index[row_key]

    @property
    def row_count(self) -> int:
        return len(self.row_keys)

    # ------------------------------------------------------------------ cursor
    @property
    def cursor_coordinate(self) -> Coordinate:
        return self._cursor

    def cursor_keys(self) -> tuple[str, str]:
        if not self.row_keys or len(self.columns) <= self.fixed:
            return "", ""
        row, column = self._cursor
        return self.row_keys[row], self.columns[column][0]

    def move_cursor(
        self, *, row: int | None = None, column: int | None = None, quiet: bool = False
    ) -> None:
        old = self._cursor
        row = old.row if row is None else row
        column = old.column if column is None else column
        row = max(0, min(row, len(self.row_keys) - 1))
        column = max(self.fixed, min(column, len(self.columns) - 1))
        self._cursor = Coordinate(row, column)
        self._scroll_to_cursor()
        if self._cursor != old:
            self.refresh()
        if not quiet:
            row_key, column_key = self.cursor_keys()
            self.post_message(self.CursorMoved(row_key, column_key))

    def _visible_rows(self) -> int:
        return max(1, self.size.height - 1)

    def _visible_columns(self) -> list[int]:
        width = sum(w + 1 for _, _, w in self.columns[: self.fixed]) + 2
        shown = []
        for index in range(self._first, len(self.columns)):
            width += self.columns[index][2] + 1
            if width > max(self.size.width, 1) and shown:
                break
            shown.append(index)
        return shown

    def _scroll_to_cursor(self) -> None:
        row, column = self._cursor
        if row < self._top:
            self._top = row
        elif row >= self._top + self._visible_rows():
            self._top = row - self._visible_rows() + 1
        if column < self._first:
            self._first = max(self.fixed, column)
        while self.size.width and column not in self._visible_columns():
            self._first += 1

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    def action_move(self, rows: int, columns: int) -> None:
        self.move_cursor(row=self._cursor.row + rows, column=self._cursor.column + columns)

    def action_page(self, direction: int) -> None:
        self.move_cursor(row=self._cursor.row + direction * self._visible_rows())

    def action_edge(self, direction: int) -> None:
        self.move_cursor(column=self.fixed if direction < 0 else len(self.columns) - 1)

    def action_select(self) -> None:
        self.post_message(self.Selected(*self.cursor_keys()))

    # ------------------------------------------------------------------ drawing
    def refresh_row(self, row: int) -> None:
        y = row - self._top + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        visible = [*range(min(self.fixed, len(self.columns))), *self._visible_columns()]
        if y == 0:
            segments = self._line(
                [self.columns[i][1] for i in visible], visible, HEADER, cursor_column=True
            )
            if self._first > self.fixed:
                segments.insert(0, Segment(MORE_LEFT, HEADER))
            if visible and visible[-1] < len(self.columns) - 1:
                segments.append(Segment(MORE_RIGHT, HEADER))
        else:
            row = self._top + y - 1
            if row >= len(self.row_keys):
                return Strip.blank(width, base)
            style = ITALIC if self.row_keys[row] in self.italic_rows else Style()
            if row == self._cursor.row:
                style += CURSOR_ROW
            segments = self._line([self.cells[row][i] for i in visible], visible, style, row=row)
        return Strip(segments).apply_style(base).adjust_cell_length(width, base)

    def _line(
        self,
        texts: list[str],
        indexes: list[int],
        style: Style,
        *,
        row: int | None = None,
        cursor_column: bool = False,
    ) -> list[Segment]:
        segments = [Segment(" ")]
        for text, index in zip(texts, indexes, strict=True):
            width = self.columns[index][2]
            cell = text[:width].ljust(width)
            at_cursor = index == self._cursor.column and (
                cursor_column or (row is not None and row == self._cursor.row)
            )
            segments.append(Segment(cell, style + CURSOR if at_cursor else style))
            segments.append(Segment(" "))
        return segments
