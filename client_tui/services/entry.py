"""What a key typed into a journal cell means, and the Russian names of kinds of work.

Teachers switch keyboard layouts mid-lesson: Latin look-alikes of the attendance letters
(h → н, 6 → б, y → у, o → о) mean the same thing, in either case.
"""

from __future__ import annotations

from shared.model import AttendanceCode, WorkKind

LETTER_CODES: dict[str, AttendanceCode] = {
    "н": AttendanceCode.ABSENT,
    "h": AttendanceCode.ABSENT,
    "б": AttendanceCode.ILL,
    "6": AttendanceCode.ILL,
    "у": AttendanceCode.EXCUSED,
    "y": AttendanceCode.EXCUSED,
    "о": AttendanceCode.LATE,
    "o": AttendanceCode.LATE,
    "п": AttendanceCode.PRESENT,
    "+": AttendanceCode.PRESENT,
} | {c.value: c for c in AttendanceCode}

WORK_KINDS: dict[str, WorkKind] = {
    "обычная": WorkKind.REGULAR,
    "контрольная": WorkKind.CONTROL,
    "практическая": WorkKind.PRACTICAL,
    "лабораторная": WorkKind.LABORATORY,
    "самостоятельная": WorkKind.INDEPENDENT,
} | {k.value: k for k in WorkKind}

MARK_KEYS = {str(v): v for v in range(1, 6)}


def parse_cell_key(character: str | None) -> int | AttendanceCode | None:
    """A mark 1–5, an attendance code, or None for a key that means nothing in a cell."""
    if not character or len(character) != 1:
        return None
    if character in MARK_KEYS:
        return MARK_KEYS[character]
    return LETTER_CODES.get(character.lower())
