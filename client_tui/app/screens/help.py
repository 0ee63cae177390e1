"""F1: every key of the app, in Russian."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = """\
[b]Везде[/b]
  F1           эта справка (Esc — закрыть)
  F5, Ctrl+S   синхронизировать сейчас (и так идёт сама в фоне)
  F6           конфликты и отклонённые записи
  F9           обмен через флешку (файл обмена)
  Ctrl+Q       выход (всё уже сохранено)

[b]Мои журналы[/b]
  ↑ ↓          выбрать журнал
  Enter        открыть журнал

[b]Журнал (месяц, как на бумаге)[/b]
  ← → ↑ ↓      перемещение по клеткам
  1 2 3 4 5    поставить отметку
  н б у о      не был / болел (справка) / уваж. причина / опоздал
               (латиница тоже: h, 6, y, o)
  п или +      присутствовал
  =            вся колонка «присутствовали» (кому ещё ничего не отмечено)
  Enter        вниз по колонке
  Delete       стереть запись в клетке: сначала отметки, затем
               посещаемость (или Backspace); спросит причину, если нужно
  F4           несколько отметок в клетке, вид работы и вес
  F2           урок: тема, домашнее задание, вид работы
  F3           новый урок: дата, Enter — сегодня (второй за день — сдвоенный)
  Ctrl+Z       отменить свою последнюю правку
  F7 / F8      предыдущий / следующий месяц
  F10          достижение ученика в портфолио класса (олимпиада,
               конкурс, ГТО…) с файлом диплома
  Esc          назад к списку журналов

[b]Колонки справа[/b]
  Ср.          средний балл за четверть (с весами отметок)
  Рек          рекомендуемая отметка (от 0,5 — вверх)
  Чет./Пол.    отметка за четверть (в 10–11 — полугодие): 1–5 ставит,
               = берёт рекомендуемую, «н» — н/а, Delete отменяет
  Год          годовая; в 9 и 11 классах ещё Экз. и Итог (итоговая)
  + −          в зачётном предмете: «зач» и «незач»

[b]В клетке[/b]
  5/4          две отметки;  о5 — отметка при опоздании
  !            одновременное исправление с другого устройства (F6)
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Закрыть"),
        Binding("f1", "close", "Закрыть"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static("[b]Клавиши журнала[/b]", id="help-title")
            yield Static(KEYS, id="help-keys")

    def action_close(self) -> None:
        self.dismiss(None)
