"""F10 on a class's journal: record an achievement of one of its pupils in the class portfolio.

The form only gathers the fields; the service (client_tui/services/portfolio.py) checks the
shared rules and the file and commits the entry; a refusal is shown here, in Russian, and the
form stays open with what was typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Checkbox, Input, Label, Select, Static

from client_tui.app.screens.forms import _Form
from client_tui.services.portfolio import AchievementForm
from shared.model import (
    ACHIEVEMENT_KIND_RU,
    ACHIEVEMENT_LEVEL_RU,
    ACHIEVEMENT_RESULT_RU,
    AchievementKind,
    AchievementLevel,
    AchievementResult,
    Student,
)
from shared.rules import RuleViolation


def _options(labels: dict) -> list[tuple[str, object]]:
    return [(name, value) for value, name in labels.items()]


class AchievementScreen(_Form):
    """Вид, название, предмет или область, уровень, результат, дата, организатор, документ."""

    def __init__(
        self,
        class_name: str,
        pupils: list[Student],
        pupil_id: str | None,
        today: dt.date,
        save: Callable[[AchievementForm], str],
    ):
        super().__init__()
        self.class_name, self.pupils, self.pupil_id = class_name, pupils, pupil_id
        self.today, self.save = today, save

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="form", id="achievement-form"):
            yield Static(f"[b]Достижение в портфолио · {self.class_name}[/b]")
            yield Label("Ученик")
            yield Select(
                [(p.short_name, p.id) for p in self.pupils],
                value=self.pupil_id or (self.pupils[0].id if self.pupils else Select.BLANK),
                allow_blank=not self.pupils,
                id="pupil",
                compact=True,
            )
            yield Label("Вид")
            yield Select(
                _options(ACHIEVEMENT_KIND_RU),
                value=AchievementKind.OLYMPIAD,
                allow_blank=False,
                id="kind",
                compact=True,
            )
            yield Label("Название (например: Школьный этап ВсОШ)")
            yield Input(id="title", max_length=300, compact=True)
            yield Label("Предмет или область")
            yield Input(id="area", max_length=200, compact=True)
            yield Label("Уровень")
            yield Select(
                _options(ACHIEVEMENT_LEVEL_RU),
                value=AchievementLevel.SCHOOL,
                allow_blank=False,
                id="level",
                compact=True,
            )
            yield Label("Результат")
            yield Select(
                _options(ACHIEVEMENT_RESULT_RU),
                value=AchievementResult.PARTICIPANT,
                allow_blank=False,
                id="result",
                compact=True,
            )
            yield Label("Дата (ДД.ММ.ГГГГ)")
            yield Input(f"{self.today:%d.%m.%Y}", id="date", compact=True)
            yield Label("Организатор")
            yield Input(id="organiser", max_length=200, compact=True)
            yield Checkbox("Получено в другой организации", id="external", compact=True)
            yield Checkbox("Есть согласие семьи (001 §5.1)", id="consent", compact=True)
            yield Label("Файл диплома: PDF, PNG или JPEG до 10 МБ (можно пусто)")
            yield Input(id="file", compact=True)
            yield Static("", classes="form-error", id="achievement-error")
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def form(self) -> AchievementForm | None:
        def value(widget_id: str) -> str:
            return self.query_one(f"#{widget_id}", Input).value.strip()

        pupil = self.query_one("#pupil", Select).value
        if pupil is Select.BLANK:
            self.error("Выберите ученика.")
            return None
        if not value("title"):
            self.error("Укажите название достижения.")
            return None
        try:
            day = dt.datetime.strptime(value("date"), "%d.%m.%Y").date()
        except ValueError:
            self.error("Дата — в виде ДД.ММ.ГГГГ, например 15.10.2026.")
            return None
        return AchievementForm(
            student_id=str(pupil),
            kind=self.query_one("#kind", Select).value,
            title=value("title"),
            area=value("area"),
            level=self.query_one("#level", Select).value,
            result=self.query_one("#result", Select).value,
            date=day,
            organiser=value("organiser"),
            external=self.query_one("#external", Checkbox).value,
            family_consent=self.query_one("#consent", Checkbox).value,
            file=value("file"),
        )

    def submit(self) -> None:
        form = self.form()
        if form is None:
            return
        try:
            done = self.save(form)
        except RuleViolation as exc:
            self.error(f"Не сохранено: {exc.message_ru}")
            return
        self.dismiss(done)
