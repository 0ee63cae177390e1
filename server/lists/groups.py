"""Pupils' groups from the pupils' list (column «Группы»: «Английский язык: 1; Технология:
девочки»): who is in which group of their class for a subject, from which day.

A pupil moved to another group leaves the old one the day before `on`; the old group's journal
keeps the marks given there. When the file has no «Группы» column, groups are left as they are;
when it has one, a subject a pupil's line no longer names is a group they leave."""

from __future__ import annotations

import datetime as dt

from server.lists.load import group_label
from server.lists.plan import Plan, norm
from server.naming import slug
from shared.model import Subject

COLUMN = "Группы"


def wanted_groups(plan: Plan, number: int, text: str) -> dict[str, str] | None:
    """Subject id → group label a line names; None (with the line's reason) if it is wrong."""
    subjects = {norm(name): sid for sid, name in plan.now.subjects.items()}
    found: dict[str, str] = {}
    for part in (p.strip() for p in text.replace("\n", ";").split(";")):
        if not part:
            continue
        subject_name, colon, label = part.rpartition(":")
        subject_name, label = subject_name.strip(), group_label(label)
        if not colon or not subject_name or not label:
            plan.error(
                number,
                f"группы «{part}»: нужно «Предмет: группа», например «Английский язык: 1».",
            )
            return None
        subject_id = subjects.get(norm(subject_name))
        if subject_id is None:
            subject_id = slug(subject_name)
            if subject_id not in plan.now.subjects and not any(
                isinstance(r, Subject) and r.id == subject_id for r in plan.writes.rows
            ):
                plan.writes.rows.append(Subject(id=subject_id, name=subject_name))
                plan.additions.append(f"предмет «{subject_name}»")
        if subject_id in found:
            plan.error(number, f"«{subject_name}»: ученик не может быть в двух группах сразу.")
            return None
        found[subject_id] = label
    return found


def plan_groups(
    plan: Plan, pid: str, class_id: str, shown: str, wanted: dict[str, str], moved: bool
) -> None:
    """Compare a pupil's groups in `class_id` with the file's; `moved`: they change class."""
    on = plan.on
    held = {
        subject: row
        for (student, klass, subject), row in plan.now.groups.items()
        if student == pid and klass == class_id and not moved
    }
    names = plan.now.subjects
    for subject, label in sorted(wanted.items()):
        row = held.get(subject)
        subject_name = names.get(subject) or next(
            (r.name for r in plan.writes.rows if isinstance(r, Subject) and r.id == subject),
            subject,
        )
        if row is not None and slug(row["group_name"]) == slug(label):  # one group, any case
            continue
        if row is None:
            plan.additions.append(f"{shown}: {subject_name}, группа {label}")
        else:
            plan.changes.append(
                f"{shown}: {subject_name}, группа {row['group_name']} → {label} "
                f"с {on:%d.%m.%Y} (отметки остаются в журнале группы {row['group_name']})"
            )
            leave_group(plan, row)
        plan.writes.group_places.append((pid, class_id, subject, label, on.isoformat()))
    for subject, row in sorted(held.items()):
        if subject not in wanted:
            plan.changes.append(
                f"{shown}: выходит из группы {row['group_name']} "
                f"({names.get(subject, subject)}) с {on:%d.%m.%Y}"
            )
            leave_group(plan, row)


def leave_group(plan: Plan, row: dict) -> None:
    """In the group until the day before `on`; a place that would begin on `on` or later never
    began and is removed."""
    key = (row["student_id"], row["class_id"], row["subject_id"], row["starts"])
    if row["starts"] >= plan.on.isoformat():
        plan.writes.drop_group_places.append(key)
    else:
        ends = (plan.on - dt.timedelta(days=1)).isoformat()
        plan.writes.end_group_places.append((*key, ends))


def note_ungrouped(plan: Plan, lines: dict[str, tuple[str, str, dict[str, str]]]) -> None:
    """A note for each class whose subject the load splits into groups but some of whose pupils
    the file puts in none: no group journal would show them. `lines`: pupil id → (class,
    name as shown, the groups the line names)."""
    split: dict[str, set[str]] = {}
    for _, class_id, subject_id, group in plan.now.load:
        if group:
            split.setdefault(class_id, set()).add(subject_id)
    missing: dict[tuple[str, str], list[str]] = {}
    for class_id, shown, wanted in lines.values():
        for subject_id in split.get(class_id, ()):
            if subject_id not in wanted:
                missing.setdefault((class_id, subject_id), []).append(shown)
    for (class_id, subject_id), names in sorted(missing.items()):
        row = plan.now.classes.get(class_id, {})
        label = f"{row.get('grade', '')}{row.get('letter', '')}"
        more = f" и ещё {len(names) - 3}" if len(names) > 3 else ""
        n = len(names)
        pupils = "ученика" if n % 10 == 1 and n % 100 != 11 else "учеников"
        plan.notes.append(
            f"{label}, {plan.now.subjects.get(subject_id, subject_id)}: предмет ведут по "
            f"группам, а у {n} {pupils} группа не указана ({'; '.join(names[:3])}{more}) — "
            "в журналах групп их не будет."
        )
