"""Small modal forms: a new lesson's date, the lesson record, several marks in one cell,
a correction's reason, an exemption's document and dates."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import msgspec
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from client_tui.services.grid import WORK_KINDS_RU
from shared.model import MarkSpecial, WorkKind
from shared.scales import Typed, mark_text, parse_typed

KIND_OPTIONS = [(name, kind) for kind, name in WORK_KINDS_RU.items()]
# what a lesson's cell takes (the scale rule then says whether this journal does)
CELL_VALUES = frozenset({MarkSpecial.NONE, MarkSpecial.PASS, MarkSpecial.FAIL})


def typed_text(values: list[Typed]) -> str:
    """Marks as the teacher types them: «5 4+», «зач»."""
    return " ".join(mark_text(t.value, t.modifier, t.special) for t in values)


class LessonFields(msgspec.Struct, frozen=True, kw_only=True):
    topic: str
    homework: str
    work_kind: WorkKind


class MarkFields(msgspec.Struct, frozen=True, kw_only=True):
    values: list[Typed]  # «5», «4+», «зач» as parsed (shared.scales.parse_typed)
    work_kind: WorkKind
    weight: int


class _Form(ModalScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Отмена")]

    def action_cancel(self) -> None:
        self.dismiss(None)

    def buttons(self) -> ComposeResult:
        with Horizontal(classes="form-buttons"):
            yield Button("Сохранить (Enter)", id="ok", variant="primary", compact=True)
            yield Button("Отмена (Esc)", id="cancel", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.submit()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.submit()

    def error(self, text: str) -> None:
        self.query_one(".form-error", Static).update(text)

    def submit(self) -> None:
        raise NotImplementedError


class LessonDateForm(_Form):
    """F3: the new lesson's date, today unless the teacher types another (ДД.ММ.ГГГГ)."""

    def __init__(self, today: dt.date):
        super().__init__()
        self.today = today

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static("[b]Новый урок[/b]")
            yield Label("Дата урока (ДД.ММ.ГГГГ; Enter — сегодня)")
            yield Input(f"{self.today:%d.%m.%Y}", id="date", max_length=10, compact=True)
            yield Static("", classes="form-error")
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#date", Input).focus()

    def submit(self) -> None:
        text = self.query_one("#date", Input).value.strip()
        try:
            day = dt.datetime.strptime(text, "%d.%m.%Y").date()
        except ValueError:
            self.error(f"Дата «{text}» не распознана: пишите ДД.ММ.ГГГГ, например 20.11.2026.")
            return
        self.dismiss(day)


class LessonForm(_Form):
    """Тема урока, домашнее задание, вид работы of one lesson."""

    def __init__(self, day: dt.date, slot: int, fields: LessonFields):
        super().__init__()
        self.day, self.slot, self.fields = day, slot, fields

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            double = f", урок {self.slot}" if self.slot > 1 else ""
            yield Static(f"[b]Урок {self.day:%d.%m.%Y}{double}[/b]")
            yield Label("Тема урока")
            yield Input(self.fields.topic, id="topic", max_length=500, compact=True)
            yield Label("Домашнее задание")
            yield Input(self.fields.homework, id="homework", max_length=2000, compact=True)
            yield Label("Вид работы")
            yield Select(
                KIND_OPTIONS,
                value=self.fields.work_kind,
                allow_blank=False,
                id="kind",
                compact=True,
            )
            yield Static("", classes="form-error")
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#topic", Input).focus()

    def submit(self) -> None:
        self.dismiss(
            LessonFields(
                topic=self.query_one("#topic", Input).value.strip(),
                homework=self.query_one("#homework", Input).value.strip(),
                work_kind=self.query_one("#kind", Select).value,
            )
        )


class MarksForm(_Form):
    """Several marks in one cell (slots), the kind of work and the weight."""

    def __init__(self, who: str, fields: MarkFields):
        super().__init__()
        self.who, self.fields = who, fields

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static(f"[b]Отметки: {self.who}[/b]")
            yield Label("Отметки через пробел (например: 5 4+; в зачётном предмете: зач)")
            yield Input(typed_text(self.fields.values), id="values", compact=True)
            yield Label("Вид работы")
            yield Select(
                KIND_OPTIONS,
                value=self.fields.work_kind,
                allow_blank=False,
                id="kind",
                compact=True,
            )
            yield Label("Вес отметки (1–5)")
            yield Input(str(self.fields.weight), id="weight", compact=True)
            yield Static("", classes="form-error")
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#values", Input).focus()

    def submit(self) -> None:
        raw = self.query_one("#values", Input).value.replace(",", " ").split()
        weight = self.query_one("#weight", Input).value.strip()
        typed = [parse_typed(v) for v in raw]
        if any(t is None or t.special not in CELL_VALUES for t in typed):
            self.error(
                "Отметки через пробел: 1–5 (с «+»/«−», если школа разрешила), «зач» или «незач»."
            )
            return
        if len(raw) > 10:
            self.error("В одной клетке не больше десяти отметок.")
            return
        if weight not in {"1", "2", "3", "4", "5"}:
            self.error("Вес отметки — число от 1 до 5.")
            return
        self.dismiss(
            MarkFields(
                values=typed,
                work_kind=self.query_one("#kind", Select).value,
                weight=int(weight),
            )
        )


class ReasonForm(_Form):
    """The rules ask why an entry of an earlier day is changed (000 §5.3)."""

    def __init__(self, message: str):
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static(f"[b]{self.message}[/b]")
            yield Label("Причина исправления")
            yield Input(id="reason", max_length=500, compact=True)
            yield Static("", classes="form-error")
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    def submit(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.error("Укажите причину: без неё исправление не сохраняется.")
            return
        self.dismiss(reason)


class ExemptionFields(msgspec.Struct, frozen=True, kw_only=True):
    document: str
    starts: dt.date
    ends: dt.date


class ExemptionForm(_Form):
    """«осв.» in a period's or the year's column: the document that exempts the pupil and the
    days it covers (004 §1.4), as `journal period-mark --value осв.` asks on the command line;
    the pupil's marks on those days are then refused."""

    def __init__(self, who: str, starts: dt.date, ends: dt.date):
        super().__init__()
        self.who, self.starts, self.ends = who, starts, ends

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static(f"[b]Освобождение: {self.who}[/b]")
            yield Label("Документ (например, «Справка ВК № 12 от 01.09.2026»)")
            yield Input(id="document", max_length=200, compact=True)
            with Horizontal():
                yield Label("С ")
                yield Input(f"{self.starts:%d.%m.%Y}", id="starts", max_length=10, compact=True)
                yield Label(" по ")
                yield Input(f"{self.ends:%d.%m.%Y}", id="ends", max_length=10, compact=True)
            yield Static("", classes="form-error")
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#document", Input).focus()

    def submit(self) -> None:
        document = self.query_one("#document", Input).value.strip()
        if not document:
            self.error("Укажите документ об освобождении: без него «осв.» не ставится.")
            return
        days = []
        for key in ("starts", "ends"):
            text = self.query_one(f"#{key}", Input).value.strip()
            try:
                days.append(dt.datetime.strptime(text, "%d.%m.%Y").date())
            except ValueError:
                self.error(f"Дата «{text}» не распознана: пишите ДД.ММ.ГГГГ, например 20.11.2026.")
                return
        if days[0] > days[1]:
            self.error("Дата начала позже даты окончания.")
            return
        self.dismiss(ExemptionFields(document=document, starts=days[0], ends=days[1]))
