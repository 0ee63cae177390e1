"""Which scale a journal is kept on, and what may be written in its cells (pure functions).

The deputy director sets scales per grade and subject (Directory.scales); without a setting a
journal is five-point (004 §1.5), and grade 1 is taught without marks (безотметочное обучение).
A typed value is parsed here once, so the TUI, the CLI and the server's rules agree on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.model import (
    MARK_SPECIAL_RU,
    SCALE_RU,
    Directory,
    MarkKind,
    MarkSpecial,
    Scale,
    ScaleSetting,
)

UNMARKED_GRADES = frozenset({1})  # безотметочное обучение by default


@dataclass(frozen=True)
class JournalScale:
    """The scale of one journal: what its current and period cells accept."""

    scale: Scale = Scale.FIVE_POINT
    modifiers: bool = False

    @property
    def name_ru(self) -> str:
        return SCALE_RU[self.scale] + (" с «+»/«−»" if self.modifiers else "")


FIVE_POINT = JournalScale()


def scale_of(settings: tuple[ScaleSetting, ...], grade: int, subject_id: str) -> JournalScale:
    """The most specific setting for (grade, subject): both, then the subject, then the grade."""
    best: tuple[int, ScaleSetting] | None = None
    for s in settings:
        if s.grade not in (None, grade) or s.subject_id not in (None, subject_id):
            continue
        rank = (s.grade is not None) + 2 * (s.subject_id is not None)
        if best is None or rank > best[0]:
            best = (rank, s)
    if best is not None:
        setting = best[1]
        return JournalScale(setting.scale, setting.modifiers and setting.scale is Scale.FIVE_POINT)
    if grade in UNMARKED_GRADES:
        return JournalScale(Scale.NONE)
    return FIVE_POINT


def journal_scale(directory: Directory, class_id: str, subject_id: str) -> JournalScale:
    grade = next((c.grade for c in directory.classes if c.id == class_id), 0)
    return scale_of(directory.scales, grade, subject_id)


@dataclass(frozen=True)
class Typed:
    """A value as typed, parsed: `value` 1–5 (0 for a special), its modifier and special."""

    value: int = 0
    modifier: str = ""
    special: MarkSpecial = MarkSpecial.NONE


_SPECIAL_WORDS = {
    "зач": MarkSpecial.PASS,
    "зачёт": MarkSpecial.PASS,
    "зачет": MarkSpecial.PASS,
    "незач": MarkSpecial.FAIL,
    "незачёт": MarkSpecial.FAIL,
    "незачет": MarkSpecial.FAIL,
    "н/а": MarkSpecial.NOT_ATTESTED,
    "на": MarkSpecial.NOT_ATTESTED,
    "осв": MarkSpecial.EXEMPT,
    "осв.": MarkSpecial.EXEMPT,
}


def parse_typed(text: str) -> Typed | None:
    """«5», «4+», «3−», «зач», «незач», «н/а», «осв.» → Typed; None for anything else.

    A number outside 1–5 parses too: whether the journal takes it is `refusal`'s question,
    so the person is told the rule and its clause, not that the input is unreadable."""
    raw = text.strip().lower().replace("−", "-").replace("–", "-")
    if raw in _SPECIAL_WORDS:
        return Typed(special=_SPECIAL_WORDS[raw])
    digits = raw.rstrip("+-")
    if (
        digits.isascii()
        and digits.isdigit()
        and len(digits) <= 3
        and raw[len(digits) :]
        in (
            "",
            "+",
            "-",
        )
    ):
        return Typed(value=int(digits), modifier=raw[len(digits) :])  # 6 → the rule refuses it
    return None


CURRENT_SPECIALS = frozenset({MarkSpecial.PASS, MarkSpecial.FAIL})
ATTESTATION_KINDS = frozenset({MarkKind.PERIOD, MarkKind.YEAR})


def refusal(
    scale: JournalScale,
    value: int,
    modifier: str,
    special: MarkSpecial,
    kind: MarkKind = MarkKind.CURRENT,
) -> str | None:
    """Why the journal's scale does not take this value (a Russian message), or None."""
    if scale.scale is Scale.NONE and (special is MarkSpecial.NONE or special in CURRENT_SPECIALS):
        return (
            "В этом журнале обучение без отметок (безотметочное обучение): отметки "
            "не ставятся (004 §1.5)."
        )
    if special is not MarkSpecial.NONE:
        if value != 0 or modifier:
            return "Особое значение («н/а», «осв.», «зач») не сочетается с баллом."
        if special in CURRENT_SPECIALS:
            if scale.scale is not Scale.PASS_FAIL:
                return (
                    f"«{MARK_SPECIAL_RU[special]}» ставится только в зачётных предметах; "
                    "шкала этого журнала — пятибалльная (004 §1.5)."
                )
            return None
        if kind not in ATTESTATION_KINDS:
            return (
                f"«{MARK_SPECIAL_RU[special]}» ставится только в колонках периода и года "
                "(004 §1.4)."
            )
        return None
    if scale.scale is Scale.PASS_FAIL:
        return "Предмет оценивается «зачёт / незачёт»: введите «зач» или «незач» (001 §3.4)."
    if not 1 <= value <= 5:
        return "Отметка должна быть от 1 до 5 (пятибалльная система, 004 §1.5)."
    if modifier and (not scale.modifiers or kind is not MarkKind.CURRENT):
        return (
            "Отметки с «+» и «−» школа не разрешила (004 §1.5)."
            if not scale.modifiers
            else "«+» и «−» ставятся только у текущих отметок (004 §1.5)."
        )
    return None


def mark_text(value: int, modifier: str = "", special: MarkSpecial = MarkSpecial.NONE) -> str:
    """As the journal prints it: «5», «4+», «3−», «зач», «н/а», «осв.»."""
    if special is not MarkSpecial.NONE:
        return MARK_SPECIAL_RU[special]
    return f"{value}{modifier.replace('-', '−')}"
