"""The journal of one class and subject for one month, shaped like the paper journal.

Every key goes to JournalEditor (client service layer), which checks the shared rules and
commits to the local store before the grid shows the entry. Sync happens elsewhere, in the
background: nothing here waits for the network.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterable
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static

from client_tui.app.messages import EntrySaved
from client_tui.app.screens.achievement import AchievementScreen
from client_tui.app.screens.forms import (
    ExemptionFields,
    ExemptionForm,
    LessonDateForm,
    LessonFields,
    LessonForm,
    MarkFields,
    MarksForm,
    ReasonForm,
    typed_text,
)
from client_tui.app.screens.problems import ProblemsScreen
from client_tui.app.widgets.journal_grid import JournalGrid
from client_tui.app.widgets.status_bar import StatusBar
from client_tui.services.describe import journal_title
from client_tui.services.editor import Edit, JournalEditor
from client_tui.services.entry import parse_cell_key
from client_tui.services.grid import (
    WORK_KINDS_RU,
    MonthGrid,
    build_month_grid,
    column_kind,
    month_start,
    shift_month,
)
from shared.columns import PERIOD_TITLES
from shared.fold import JournalState
from shared.grades import suggested_final, weight_for
from shared.model import (
    MARK_SPECIAL_RU,
    SCALE_RU,
    AttendanceCode,
    MarkKind,
    MarkSpecial,
    NotAttestedReason,
    Scale,
    WorkKind,
)
from shared.rules import REASON_RULES, RuleViolation
from shared.scales import Typed, mark_text

TOPICS_ROW = "__topics__"
NUM, NAME, AVERAGE, SUGGESTED, PERIOD = "__num__", "__name__", "__avg__", "__sug__", "__period__"
READ_ONLY_MESSAGE = "Журнал только для чтения: вы не ведёте этот предмет в этом классе."
NEEDS_REASON = REASON_RULES  # refusals answered by a reason: the screen asks for one
PASTE_REFUSED = "Вставка не принята: "
MODIFIER_KEYS = {"+": "+", "-": "-", "−": "-"}  # «4+», «3−» (stored as "+" and "-")


class GridScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "app.help", "Помощь"),
        Binding("escape", "back", "Назад"),
        Binding("delete,backspace", "clear_cell", "Удалить", show=False),
        Binding("f2", "edit_lesson", "Урок"),
        Binding("f3", "new_lesson", "Нов.урок"),
        Binding("f4", "marks_form", "Отметки"),
        Binding("f6", "problems", "Конфликты", show=False),
        Binding("f7", "month(-1)", "◀Мес"),
        Binding("f8", "month(1)", "Мес▶"),
        Binding("ctrl+z", "undo", "Отменить"),
        Binding("f10", "achievement", "Достиж."),
        Binding("ctrl+s", "app.sync_now", "Синхр.", show=False),
    ]

    def __init__(self, journal_id: str):
        super().__init__()
        self.journal_id = journal_id
        self.grid: MonthGrid | None = None
        self.month = None
        # which folded state the grid was drawn from: the object (a new one after a reload or a
        # rebuild) and how many events it held (a document's state grows in place)
        self._shown: tuple[int, int] | None = None

    # ------------------------------------------------------------------ services
    @property
    def book(self):
        return self.app.session.book

    @property
    def editor(self) -> JournalEditor:
        return self.app.editor

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static("", id="grid-title", classes="title")
        yield JournalGrid(id="grid")
        yield Static("", id="lesson-panel")
        yield Static("", id="message")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.month = month_start(self.app.today())
        self.load(keep_cursor=False)
        self.query_one("#grid", JournalGrid).focus()
        # the year's folded journal is now a few hundred thousand long-lived objects: move
        # them out of the collector's sight, or every full collection walks them all while
        # the teacher types (~100 ms every ~30 keys)
        gc.collect()
        gc.freeze()

    def on_unmount(self) -> None:
        # a closed journal's objects must be collectable again, or each opening keeps one
        # screen and its journal alive for the rest of the day
        gc.unfreeze()

    @property
    def table(self) -> JournalGrid:
        return self.query_one("#grid", JournalGrid)

    def build(self) -> MonthGrid:
        info = self.book.info(self.journal_id)
        state = self.book.state(self.journal_id)
        self._shown = shown(state)
        return build_month_grid(state, self.book.directory_of(self.journal_id), info, self.month)

    def load(self, keep_cursor: bool = True) -> None:
        """Build the table from the month's grid (columns may have changed)."""
        table = self.table
        self.grid = grid = self.build()
        columns = [(NUM, "№", 2), (NAME, "Ученик", 16)]
        width = 5 if grid.scale == SCALE_RU[Scale.PASS_FAIL] else 4  # «незач» fits whole
        columns += [(c.lesson_id, c.label, width) for c in grid.columns]
        if grid.period is not None:
            title = PERIOD_TITLES.get(grid.period.kind, "Пер.")  # «Чет.» or «Пол.» (004 §1.4)
            columns += [(AVERAGE, "Ср.", 4), (SUGGESTED, "Рек", 3), (PERIOD, title, 4)]
        columns += [(year_key(kind), title, 4) for kind, title, _ in grid.year_columns]
        rows = [
            (row.student_id, self.row_cells(grid, row.student_id, row.number, row.name))
            for row in grid.rows
        ]
        rows.append((TOPICS_ROW, self.topic_cells(grid)))
        table.set_data(columns, rows, italic_rows={TOPICS_ROW})
        self.show_title()
        if not keep_cursor:
            table.move_cursor(row=0, column=len(grid.columns) + 1, quiet=True)
        self.show_panel()

    def row_cells(self, grid: MonthGrid, student_id: str, number: int, name: str) -> list:
        cells: list = [str(number), name]
        cells += [grid.cell(student_id, c.lesson_id).text for c in grid.columns]
        if grid.period is not None:
            cells += self.period_texts(grid, student_id)
        cells += [grid.year_cells.get((student_id, kind), "") for kind, _, _ in grid.year_columns]
        return cells

    def period_texts(self, grid: MonthGrid, student_id: str) -> list[str]:
        cell = grid.period_cells.get(student_id)
        if cell is None:
            return ["", "", ""]
        return [cell.average_text, str(cell.suggested or ""), cell.mark_text]

    def topic_cells(self, grid: MonthGrid) -> list:
        cells: list = ["", "Тема урока"]
        cells += [(c.topic[:4] if c.topic else "—") for c in grid.columns]
        if grid.period is not None:
            cells += ["", "", ""]
        cells += ["" for _ in grid.year_columns]
        return cells

    def refresh_grid(self, touched: Iterable[tuple[str, str]] | None = None) -> None:
        """Redraw what changed: after a typed entry only its cells (and their pupils' period
        figures) are recomputed; otherwise the month is rebuilt and compared."""
        old = self.grid
        if old is None:
            self.load()
            return
        if touched is not None:
            state = self.book.state(self.journal_id)
            self._shown = shown(state)
            new = old.updated(state, touched)
        else:
            new = self.build()
        if (
            old.columns != new.columns
            or old.rows != new.rows
            or old.year_columns != new.year_columns
        ):
            self.load()
            return
        self.grid = new
        table = self.table
        for row in new.rows:
            for column in new.columns:
                key = (row.student_id, column.lesson_id)
                if old.cells.get(key) != new.cells.get(key):
                    table.update_cell(row.student_id, column.lesson_id, new.cell(*key).text)
            if new.period is not None and old.period_cells.get(
                row.student_id
            ) != new.period_cells.get(row.student_id):
                for column_key, text in zip(
                    (AVERAGE, SUGGESTED, PERIOD),
                    self.period_texts(new, row.student_id),
                    strict=True,
                ):
                    table.update_cell(row.student_id, column_key, text)
            for kind, _title, _period in new.year_columns:  # «Год», «Экз.», «Итог», «Т.…»
                text = new.year_cells.get((row.student_id, kind), "")
                if old.year_cells.get((row.student_id, kind), "") != text:
                    table.update_cell(row.student_id, year_key(kind), text)
        self.show_panel()

    def show_title(self) -> None:
        grid = self.grid
        mode = "" if grid.writable else "   [reverse] ТОЛЬКО ЧТЕНИЕ [/reverse]"
        period = f" · {grid.period.name}" if grid.period else ""
        if grid.scale and grid.scale != SCALE_RU[Scale.FIVE_POINT]:
            period += f" · {grid.scale}"  # «зачёт / незачёт», «без отметок»
        empty = "   (уроков в этом месяце нет: F3 — новый урок)" if not grid.columns else ""
        title = journal_title(self.book.directory_of(self.journal_id), self.journal_id)
        self.query_one("#grid-title", Static).update(
            f"[b]{title}[/b] — {grid.title}{period}{mode}{empty}"
        )

    # ------------------------------------------------------------------ where the cursor is
    def cursor_keys(self) -> tuple[str, str]:
        return self.table.cursor_keys()

    def on_journal_grid_cursor_moved(self, event: JournalGrid.CursorMoved) -> None:
        self.show_panel()

    def show_panel(self) -> None:
        """The lesson panel: date, kind of work, topic and homework of the cursor's column."""
        panel = self.query_one("#lesson-panel", Static)
        grid = self.grid
        _row_key, column_key = self.cursor_keys()
        column = grid.column(column_key) if grid else None
        if column is not None:
            doubled = column.label != f"{column.date:%d}"
            double = f", урок {column.slot}" if doubled else ""
            panel.update(
                f"[b]{column.date:%d.%m.%Y}{double}[/b] · {WORK_KINDS_RU[column.work_kind]}\n"
                f"Тема: {column.topic or '— (F2 — записать)'}\n"
                f"ДЗ: {column.homework or '—'}"
            )
        elif grid is not None and year_kind(grid, column_key) is not None:
            panel.update(
                f"[b]{column_name(year_kind(grid, column_key))}[/b]\n"
                "1–5 ставит, «н» — «н/а», «о» — «осв.» (документ и даты), Delete отменяет. "
                "«Итог» — по правилу школы из годовой и экзаменационной, учитель подтверждает."
            )
        elif (
            grid is not None
            and grid.period is not None
            and column_key
            in (
                AVERAGE,
                SUGGESTED,
                PERIOD,
            )
        ):
            p = grid.period
            panel.update(
                f"[b]{p.name}[/b] ({p.starts:%d.%m}–{p.ends:%d.%m.%Y})\n"
                "Ср. — средний балл (взвешенный), Рек — рекомендуемая отметка.\n"
                f"{PERIOD_TITLES.get(p.kind, '')} — отметка за период: ставится после последнего "
                "урока периода; «н» — «н/а», «о» — «осв.»."
            )
        else:
            panel.update(
                "Стрелки — выбор клетки, 1–5 — отметка, н б у о — посещаемость. F1 — все клавиши."
            )

    def say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#message", Static)
        message.update(text)
        message.set_class(error, "error")
        if error:
            self.app.bell()

    # ------------------------------------------------------------------ doing things
    def run_edit(
        self,
        action: Callable[[str], Edit],
        done: str,
        reason: str = "",
        touched: list[tuple[str, str]] | None = None,
    ) -> bool:
        """Call the service; show a refusal with its Russian message, or ask for a reason when
        the rules require one and then try again."""
        if self.grid is not None and not self.grid.writable:
            self.say(f"Не сохранено: {READ_ONLY_MESSAGE}", error=True)
            return False
        try:
            action(reason)
        except RuleViolation as exc:
            if exc.rule in NEEDS_REASON and not reason:

                def retry(given: str | None) -> None:
                    if given:
                        self.run_edit(action, done, given, touched)
                    else:
                        self.say("Не сохранено: исправление без причины отменено.", error=True)

                self.app.push_screen(ReasonForm(exc.message_ru), retry)
                return False
            self.say(f"Не сохранено: {exc.message_ru}", error=True)
            return False
        self.say(done)
        self.refresh_grid(touched)
        self.post_message(EntrySaved())
        return True

    def on_key(self, event: events.Key) -> None:
        if event.character in MODIFIER_KEYS and self.grid is not None and self.pass_fail():
            event.stop()
            event.prevent_default()
            self.type_special(MarkSpecial.PASS if event.character == "+" else MarkSpecial.FAIL)
            return
        if (
            event.character in MODIFIER_KEYS
            and self.grid is not None
            and self.modifies(event.character)
        ):
            event.stop()
            event.prevent_default()
            self.type_modifier(MODIFIER_KEYS[event.character])
            return
        if event.character == "=":
            event.stop()
            event.prevent_default()
            self.fill_column()
            return
        value = parse_cell_key(event.character)
        if value is None:
            return
        event.stop()
        event.prevent_default()
        self.type_value(value)

    def on_paste(self, event: events.Paste) -> None:
        """A pasted column (one cell's value per line or word, e.g. from a spreadsheet) goes
        cell by cell down from the cursor, each checked like a typed key; anything else is
        refused whole, so a paste never smears into one cell."""
        event.stop()
        event.prevent_default()
        cells = event.text.split()
        values = [self.paste_cell(cell) for cell in cells]
        row_key, column_key = self.cursor_keys()
        rows = [r.student_id for r in self.grid.rows] if self.grid else []
        column = self.grid.column(column_key) if self.grid else None
        if not cells or any(None in cell for cell in values):
            self.say(
                PASTE_REFUSED + "вставлять можно только отметки 1–5 и буквы н б у о п, "
                "по одной клетке в строке.",
                error=True,
            )
            return
        if column is None or row_key not in rows:
            self.say(PASTE_REFUSED + "встаньте на клетку ученика в колонке урока.", error=True)
            return
        start = rows.index(row_key)
        if start + len(cells) > len(rows):
            self.say(
                PASTE_REFUSED + f"строк во вставке {len(cells)}, а учеников ниже курсора "
                f"{len(rows) - start}.",
                error=True,
            )
            return
        for offset, cell in enumerate(values):
            self.table.move_cursor(row=start + offset, quiet=True)
            for value in cell:
                pair = value if isinstance(value, tuple) else (value,)
                if not self.type_value(*pair):
                    self.show_panel()
                    return  # the refusal (with its reason) stays on the message line
        self.table.move_cursor(row=start + len(cells))
        self.say(f"Вставлено клеток: {len(cells)} ({column.date:%d.%m}).")

    def paste_cell(self, cell: str) -> list:
        """A pasted cell's keys; «4+» is one mark with its modifier where the school allows
        it (elsewhere «+» is «present», as typed)."""
        items: list = []
        for ch in cell:
            if (
                ch in MODIFIER_KEYS
                and self.grid is not None
                and self.grid.modifiers
                and items
                and type(items[-1]) is int
            ):
                items[-1] = (items[-1], MODIFIER_KEYS[ch])
            else:
                items.append(parse_cell_key(ch))
        return items

    def pass_fail(self) -> bool:
        return self.grid.scale == SCALE_RU[Scale.PASS_FAIL]

    def modifies(self, key: str) -> bool:
        """Whether «+»/«−» under the cursor is a mark's modifier: in a lesson's cell that has
        a mark, where the school allows «4+»; elsewhere «+» keeps meaning «present», and «−»
        after a mark gets the scale rule's answer (with its clause) where it is not allowed."""
        row_key, column_key = self.cursor_keys()
        if self.grid.column(column_key) is None or not self.student_name(row_key):
            return False
        has_mark = bool(self.grid.cell(row_key, column_key).marks)
        if key == "+":
            return self.grid.modifiers and has_mark
        return self.grid.modifiers or has_mark

    def type_modifier(self, modifier: str) -> bool:
        """«+» or «−» after a digit: the cell's last mark becomes «4+» or «4−»."""
        row_key, column_key = self.cursor_keys()
        column = self.grid.column(column_key)
        marks = self.grid.cell(row_key, column_key).marks
        if not marks:
            self.say("«+» и «−» ставятся после отметки: сначала цифра 1–5.", error=True)
            return False
        shown = mark_text(marks[-1], modifier)
        return self.run_edit(
            lambda r: self.editor.set_modifier(
                self.journal_id, column.lesson_id, row_key, modifier, r
            ),
            f"Сохранено: {self.student_name(row_key)} — {shown} ({column.date:%d.%m})",
            touched=[(row_key, column.lesson_id)],
        )

    def type_special(self, special: MarkSpecial) -> bool:
        """«+» and «−» on a pass/fail journal: зач and незач, in a lesson's or a period's cell."""
        grid = self.grid
        row_key, column_key = self.cursor_keys()
        name = self.student_name(row_key)
        shown = MARK_SPECIAL_RU[special]
        if column_key == PERIOD and grid.period is not None and name:
            return self.set_column_mark(
                grid.period.id, MarkKind.PERIOD, row_key, 0, special=special
            )
        column = grid.column(column_key)
        if column is None or not name:
            self.say("Выберите клетку ученика.", error=True)
            return False
        return self.run_edit(
            lambda r: self.editor.set_mark(
                self.journal_id, column.lesson_id, row_key, 0, r, special=special
            ),
            f"Сохранено: {name} — {shown} ({column.date:%d.%m})",
            touched=[(row_key, column.lesson_id)],
        )

    def set_column_mark(
        self, period_id: str, column: str, row_key: str, value: int, **special
    ) -> bool:
        """A mark in the period's or a year column; «н» there is «н/а» (its reason: no marks
        when the period has none, else absences — the CLI can say otherwise)."""
        grid = self.grid
        name = self.student_name(row_key)
        if special.get("special") is MarkSpecial.NOT_ATTESTED:
            cell = grid.period_cells.get(row_key)
            no_marks = cell is None or cell.average is None
            reason = NotAttestedReason.NO_MARKS if no_marks else NotAttestedReason.ABSENCES
            special["na_reason"] = reason
        shown = mark_text(value, special=special.get("special", MarkSpecial.NONE))
        kind, topic = column_kind(column)
        where = grid.period.name if kind is MarkKind.PERIOD and grid.period else column_name(column)
        return self.run_edit(
            lambda r: self.editor.set_period_mark(
                self.journal_id,
                period_id,
                row_key,
                value,
                r,
                mark_kind=kind,
                topic=topic,
                **special,
            ),
            f"Сохранено: {name} — {shown} за «{where}»",
            touched=[(row_key, "")] if kind is MarkKind.PERIOD else None,
        )

    def type_value(self, value: int | AttendanceCode, modifier: str = "") -> bool:
        grid = self.grid
        row_key, column_key = self.cursor_keys()
        name = self.student_name(row_key)
        kind = MarkKind.PERIOD.value if column_key == PERIOD else year_kind(grid, column_key)
        if kind is not None and name and (grid.period is not None or kind != PERIOD_KIND):
            period_id = grid.period.id if kind == PERIOD_KIND else year_period(grid, kind)
            if value is AttendanceCode.ABSENT:
                special = MarkSpecial.NOT_ATTESTED
                return self.set_column_mark(period_id, kind, row_key, 0, special=special)
            if value is AttendanceCode.LATE:  # «о»: освобождён, by a document, for dates
                self.ask_exemption(period_id, kind, row_key)
                return False
            if not isinstance(value, int):
                self.say("Здесь — отметка 1–5, «н» (н/а) или «о» (осв.).", error=True)
                return False
            return self.set_column_mark(period_id, kind, row_key, value)
        column = grid.column(column_key)
        if column is None or not name:
            self.say("Выберите клетку ученика в колонке урока.", error=True)
            return False
        if isinstance(value, int):
            return self.run_edit(
                lambda r: self.editor.set_mark(
                    self.journal_id, column.lesson_id, row_key, value, r, modifier=modifier
                ),
                f"Сохранено: {name} — {mark_text(value, modifier)} ({column.date:%d.%m})",
                touched=[(row_key, column.lesson_id)],
            )
        else:
            return self.run_edit(
                lambda r: self.editor.set_attendance(
                    self.journal_id, column.lesson_id, row_key, value, r
                ),
                f"Сохранено: {name} — {value_name(value)} ({column.date:%d.%m})",
                touched=[(row_key, column.lesson_id)],
            )

    def ask_exemption(self, period_id: str, column: str, row_key: str) -> None:
        """«о» in a period's or the year's column: «осв.» needs the document and the days it
        covers (the period's own by default); the pupil's marks on those days are refused."""
        period = next(p for p in self.book.directory.periods if p.id == period_id)

        def save(fields: ExemptionFields | None) -> None:
            if fields is None:
                self.say("Не сохранено: освобождение отменено.")
                return
            self.set_column_mark(
                period_id,
                column,
                row_key,
                0,
                special=MarkSpecial.EXEMPT,
                document=fields.document,
                exempt_from=fields.starts,
                exempt_to=fields.ends,
            )

        form = ExemptionForm(self.student_name(row_key), period.starts, period.ends)
        self.app.push_screen(form, save)

    def student_name(self, student_id: str) -> str:
        row = next((r for r in self.grid.rows if r.student_id == student_id), None)
        return row.name if row else ""

    def on_journal_grid_selected(self, event: JournalGrid.Selected) -> None:
        """Enter: down the column, as on paper; on the topics row, the lesson form."""
        event.stop()
        row_key, _column_key = self.cursor_keys()
        if row_key == TOPICS_ROW:
            self.action_edit_lesson()
            return
        coordinate = self.table.cursor_coordinate
        self.table.move_cursor(row=coordinate.row + 1, column=coordinate.column)

    def fill_column(self) -> None:
        row_key, column_key = self.cursor_keys()
        if column_key == PERIOD and self.grid.period is not None:
            suggested = self.grid.period_cells.get(row_key)
            if suggested is None or suggested.suggested is None:
                self.say("Рекомендуемой отметки нет: в периоде нет отметок.", error=True)
            else:
                self.type_value(suggested.suggested)  # «=» in «Чет.»: take the suggestion
            return
        if year_kind(self.grid, column_key) == MarkKind.FINAL.value:
            self.suggest_final(row_key)
            return
        column = self.grid.column(column_key)
        if column is None:
            self.say("Выберите колонку урока.", error=True)
            return
        students = [r.student_id for r in self.grid.rows]
        self.run_edit(
            lambda r: self.editor.fill_column(self.journal_id, column.lesson_id, students),
            f"Сохранено: присутствовали все, у кого ничего не отмечено ({column.date:%d.%m})",
            touched=[(s, column.lesson_id) for s in students],
        )

    def suggest_final(self, row_key: str) -> None:
        """«=» in «Итог»: the school's rule from «Год» and «Экз.» (shared.grades), which the
        teacher confirms by this key (004 §1.4, 000 §3.2.2)."""

        def number(kind: MarkKind) -> int | None:
            text = self.grid.year_cells.get((row_key, kind.value), "")
            return int(text) if text.isdigit() else None

        final = suggested_final(number(MarkKind.YEAR), number(MarkKind.EXAM))
        if final is None:
            self.say("Итоговую предложить не из чего: нет годовой отметки.", error=True)
        else:
            self.type_value(final)

    def action_clear_cell(self) -> None:
        row_key, column_key = self.cursor_keys()
        name = self.student_name(row_key)
        grid = self.grid
        column = year_kind(grid, column_key)
        if column is not None and name:
            period_id = year_period(grid, column)
            kind, topic = column_kind(column)
            self.run_edit(
                lambda r: self.editor.clear_period_mark(
                    self.journal_id, period_id, row_key, r, mark_kind=kind, topic=topic
                ),
                f"Отменено: {column_name(column)} — {name}",
            )
            return
        if column_key == PERIOD and grid.period is not None and name:
            period_id = grid.period.id
            self.run_edit(
                lambda r: self.editor.clear_period_mark(self.journal_id, period_id, row_key, r),
                f"Отменено: отметка за период — {name}",
                touched=[(row_key, "")],
            )
            return
        column = grid.column(column_key)
        if column is None or not name:
            self.say("Выберите клетку ученика в колонке урока.", error=True)
            return
        self.run_edit(
            lambda r: self.editor.clear_cell(self.journal_id, column.lesson_id, row_key, r),
            f"Отменено: {name}, {column.date:%d.%m}",
            touched=[(row_key, column.lesson_id)],
        )

    def action_undo(self) -> None:
        if self.grid is not None and not self.grid.writable:
            self.say(f"Не сохранено: {READ_ONLY_MESSAGE}", error=True)
            return
        try:
            edit = self.editor.undo()
        except RuleViolation as exc:
            self.say(f"Отмена невозможна: {exc.message_ru}", error=True)
            return
        if edit is None:
            self.say("Отменять нечего: своих правок в этот раз ещё не было.")
            return
        self.say(f"Отменено: {edit.label}")
        if edit.journal_id == self.journal_id:
            self.refresh_grid()
        self.post_message(EntrySaved())

    def action_new_lesson(self) -> None:
        self.app.push_screen(LessonDateForm(self.app.today()), self.new_lesson)

    def new_lesson(self, day: dt.date | None) -> None:
        if day is None:
            return
        if self.run_edit(
            lambda r: self.editor.new_lesson(self.journal_id, day),
            f"Сохранено: новый урок {day:%d.%m.%Y} (F2 — тема и задание)",
        ):
            self.month = month_start(day)
            self.load()
            grid = self.grid
            lesson = self.editor.history[-1].events[0]
            index = next(i for i, c in enumerate(grid.columns) if c.lesson_id == lesson.lesson_id)
            self.table.move_cursor(row=0, column=index + 2)

    def action_edit_lesson(self) -> None:
        _row_key, column_key = self.cursor_keys()
        column = self.grid.column(column_key) if self.grid else None
        if column is None:
            self.say("Выберите колонку урока (или F3 — новый урок).", error=True)
            return
        fields = LessonFields(
            topic=column.topic, homework=column.homework, work_kind=column.work_kind
        )

        def save(result: LessonFields | None) -> None:
            if result is None or result == fields:
                return
            self.run_edit(
                lambda r: self.editor.save_lesson(
                    self.journal_id,
                    date=column.date,
                    slot=column.slot,
                    lesson_id=column.lesson_id,
                    topic=result.topic,
                    homework=result.homework,
                    work_kind=result.work_kind,
                    reason=r,
                ),
                f"Сохранено: урок {column.date:%d.%m}",
            )
            self.load()

        self.app.push_screen(LessonForm(column.date, column.slot, fields), save)

    def action_marks_form(self) -> None:
        row_key, column_key = self.cursor_keys()
        name = self.student_name(row_key)
        column = self.grid.column(column_key) if self.grid else None
        if column is None or not name:
            self.say("Выберите клетку ученика в колонке урока.", error=True)
            return
        marks = self.book.state(self.journal_id).marks(column.lesson_id, row_key)
        fields = MarkFields(
            values=[Typed(m.value, m.modifier, m.special) for m in marks],
            work_kind=marks[0].work_kind if marks else column.work_kind,
            weight=marks[0].weight
            if marks
            else default_weight(column.work_kind, self.book.directory.weights),
        )

        def save(result: MarkFields | None) -> None:
            if result is None:
                return
            self.run_edit(
                lambda r: self.editor.set_cell_marks(
                    self.journal_id,
                    column.lesson_id,
                    row_key,
                    result.values,
                    work_kind=result.work_kind,
                    weight=result.weight,
                    reason=r,
                ),
                f"Сохранено: {name}, {column.date:%d.%m} — "
                f"{typed_text(result.values) or 'без отметок'}",
                touched=[(row_key, column.lesson_id)],
            )

        self.app.push_screen(MarksForm(f"{name}, {column.date:%d.%m}", fields), save)

    def action_achievement(self) -> None:
        """Record an achievement of the pupil under the cursor (any pupil of the class)."""
        portfolio = self.app.session.portfolio
        info = self.book.info(self.journal_id)
        if info.class_id not in {c.id for c in portfolio.classes()}:
            self.say("Не сохранено: портфолио этого класса ведут его учителя.", error=True)
            return
        school_class = next(c for c in portfolio.classes() if c.id == info.class_id)
        pupils = portfolio.pupils(info.class_id)
        row_key, _ = self.cursor_keys()
        pupil = row_key if any(p.id == row_key for p in pupils) else None

        def save(form) -> str:
            event = portfolio.add(info.class_id, form)
            names = {p.id: p.short_name for p in pupils}
            return f"Сохранено в портфолио: {names.get(event.student_id, '')} — «{event.title}»"

        def done(message: str | None) -> None:
            if message:
                self.say(message)
                self.post_message(EntrySaved())

        self.app.push_screen(
            AchievementScreen(school_class.name, pupils, pupil, self.app.today(), save), done
        )

    def action_month(self, step: int) -> None:
        self.month = shift_month(self.month, step)
        self.load(keep_cursor=False)
        self.say("")

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_problems(self) -> None:
        self.app.push_screen(ProblemsScreen())

    def after_sync(self) -> None:
        """Entries from other devices may have arrived: redraw what changed (a quiet sync
        leaves the folded state as it was, so it costs nothing here)."""
        if self.is_mounted and shown(self.book.state(self.journal_id)) != self._shown:
            self.refresh_grid()


def shown(state: JournalState) -> tuple[int, int]:
    return id(state), len(state.events)


def value_name(code: AttendanceCode) -> str:
    return {
        AttendanceCode.PRESENT: "присутствовал",
        AttendanceCode.ABSENT: "н",
        AttendanceCode.ILL: "б",
        AttendanceCode.EXCUSED: "у",
        AttendanceCode.LATE: "о",
    }[code]


def default_weight(kind: WorkKind, table=()) -> int:
    """The school's weight for the kind of work (shared.grades, the same as the CLI's)."""
    return weight_for(kind, table)


YEAR_NAMES = {
    MarkKind.PERIOD: "период",
    MarkKind.YEAR: "Год (годовая отметка)",
    MarkKind.EXAM: "Экз. (экзаменационная отметка)",
    MarkKind.FINAL: "Итог (итоговая отметка)",
}


def year_key(kind: str) -> str:
    return f"__{kind}__"


PERIOD_KIND = MarkKind.PERIOD.value


def year_kind(grid: MonthGrid | None, column_key: str) -> str | None:
    """The column beside the lessons under the cursor («year», «exam», «final» or
    «thematic|<topic>»), None for other columns."""
    if grid is None:
        return None
    return next((k for k, _, _ in grid.year_columns if year_key(k) == column_key), None)


def year_period(grid: MonthGrid, column: str) -> str:
    return next(p for k, _, p in grid.year_columns if k == column)


def column_name(column: str) -> str:
    kind, topic = column_kind(column)
    return f"тематическая отметка «{topic}»" if topic else YEAR_NAMES[kind]
