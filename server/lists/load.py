"""Class teachers and the teaching load (teacher × class × subject × group, hours a week): the
classes must already be in the year's lists and the teachers in the staff list."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from server.importer import class_of, slug
from server.lists.plan import Plan, norm
from server.lists.reading import Table
from shared.model import ClassTeacher, Subject, TeachingAssignment


def _teachers(plan: Plan) -> dict[str, list[str]]:
    """Full name (and «Фамилия И. О.») → staff ids of the school."""
    index: dict[str, list[str]] = {}
    for pid, row in plan.now.staff.items():
        last, first, patr = row["last_name"], row["first_name"], row["patronymic"]
        names = {norm(f"{last} {first} {patr}")}
        names.add(norm(f"{last} {first[:1]}.{patr[:1]}." if patr else f"{last} {first[:1]}."))
        names.add(norm(f"{last} {first[:1]}. {patr[:1]}." if patr else f"{last} {first[:1]}."))
        for name in names:
            index.setdefault(name, []).append(pid)
    return index


def _teacher(plan: Plan, index: dict[str, list[str]], number: int, text: str) -> str | None:
    found = index.get(norm(text), [])
    if not text:
        plan.error(number, "не указан учитель.")
    elif not found:
        plan.error(number, f"учителя «{text}» нет в списке сотрудников школы.")
    elif len(found) > 1:
        plan.error(
            number, f"«{text}»: в списке сотрудников несколько таких — напишите ФИО полностью."
        )
    else:
        return found[0]
    return None


def _class(plan: Plan, number: int, text: str, what: str) -> str | None:
    school_class = class_of(plan.now.year_id, text)
    if school_class is None:
        plan.error(number, f"класс «{text}» не распознан (нужно как «5А»).")
    elif school_class.id not in plan.now.classes:
        plan.error(
            number,
            f"{what}: класса «{text}» нет в этом учебном году — сначала загрузите список "
            "учеников этого класса.",
        )
    else:
        return school_class.id
    return None


def _teacher_name(plan: Plan, pid: str) -> str:
    row = plan.now.staff[pid]
    return f"{row['last_name']} {row['first_name']} {row['patronymic']}".strip()


def _class_label(plan: Plan, class_id: str) -> str:
    row = plan.now.classes[class_id]
    return f"{row['grade']}{row['letter']}"


def plan_class_teachers(plan: Plan, table: Table) -> None:
    index = _teachers(plan)
    seen: dict[str, int] = {}
    for number, line in table.lines:
        class_id = _class(plan, number, line.get("Класс", ""), "классный руководитель")
        teacher = _teacher(plan, index, number, line.get("Классный руководитель", ""))
        if class_id is None or teacher is None:
            continue
        if class_id in seen:
            plan.error(number, f"класс «{line['Класс']}» уже в строке {seen[class_id]}.")
            continue
        seen[class_id] = number
        before = sorted(t for t, c in plan.now.class_teachers if c == class_id)
        if before == [teacher]:
            continue
        label, name = _class_label(plan, class_id), _teacher_name(plan, teacher)
        if before:
            was = ", ".join(_teacher_name(plan, t) for t in before)
            plan.changes.append(f"{label}: классный руководитель {was} → {name}")
        else:
            plan.additions.append(f"{label}: классный руководитель {name}")
        plan.writes.drop_class_teachers += [(t, class_id) for t in before if t != teacher]
        plan.writes.rows.append(ClassTeacher(teacher_id=teacher, class_id=class_id))


def group_label(text: str) -> str:
    """«1», «1 группа», «группа 2», «гр. 1» → «1»; other names as written."""
    found = re.fullmatch(r"(?:гр(?:уппа|\.)?\s*)?(\d{1,2})(?:\s*гр(?:уппа|\.)?)?", norm(text))
    return found.group(1) if found else text.strip()


MIN_HOURS, MAX_HOURS = 0.5, 40.0
_HOURS = re.compile(r"\d{1,2}(?:[.,]\d+)?")  # «3», «1,5» as Russian Excel writes, «1.5»


def _hours(plan: Plan, number: int, text: str) -> float | None:
    """Hours a week, 0,5 to 40 (a decimal comma or point); empty: not given (0)."""
    if not text:
        return 0.0
    hours = float(text.replace(",", ".")) if _HOURS.fullmatch(text.strip()) else None
    if hours is None or not MIN_HOURS <= hours <= MAX_HOURS:
        plan.error(
            number,
            f"часов в неделю «{text}»: нужно число от 0,5 до 40 (дробное — через запятую, "
            "например 1,5).",
        )
        return None
    return hours


@dataclass
class _Load:
    """A load file being read: what its lines say, class by class."""

    subjects: dict[str, str]  # normalised name -> subject id (new subjects added)
    names: dict[str, str]  # subject id -> name
    seen: dict[tuple[str, str, str], tuple[int, str]] = field(default_factory=dict)
    named_classes: set[str] = field(default_factory=set)
    load: dict[tuple[str, str, str, str], float] = field(default_factory=dict)
    combined: dict[tuple[str, str], str] = field(default_factory=dict)  # (subj, class) -> set
    sets: dict[str, tuple[str, str]] = field(default_factory=dict)  # set -> (teacher, subject)


COMBINED_SPLIT = re.compile(r"\s*[+,;]\s*")  # «2А+4А», «2А, 4А»: one lesson for both classes


def plan_load(plan: Plan, table: Table) -> None:
    now = plan.now
    index = _teachers(plan)
    read = _Load(
        subjects={norm(name): sid for sid, name in now.subjects.items()},
        names=dict(now.subjects),
    )
    for number, line in table.lines:
        teacher = _teacher(plan, index, number, line.get("Учитель", ""))
        texts = [t for t in COMBINED_SPLIT.split(line.get("Класс", "").strip()) if t] or [""]
        class_ids = [_class(plan, number, text, "нагрузка") for text in texts]
        subject_name = line.get("Предмет", "").strip()
        hours = _hours(plan, number, line.get("Часов в неделю", ""))
        if not subject_name:
            plan.error(number, "не указан предмет.")
        if len(class_ids) > 1 and len(set(class_ids)) < len(class_ids):
            plan.error(number, f"класс-комплект «{line['Класс']}»: класс назван дважды.")
            continue
        if len(class_ids) > 1 and line.get("Группа", "").strip():
            plan.error(number, "класс-комплект не делится на группы: уберите группу из строки.")
            continue
        if teacher is None or None in class_ids or not subject_name or hours is None:
            continue
        subject_id = _subject(plan, read, subject_name)
        for class_id in class_ids:
            _load_line(plan, read, number, line, teacher, class_id, subject_id, hours)
        if len(class_ids) > 1:
            _combined_line(plan, read, number, teacher, class_ids, subject_id)
    _plan_combined(plan, read)
    _finish_load(plan, read.named_classes, read.load, read.names)


def _subject(plan: Plan, read: _Load, subject_name: str) -> str:
    subject_id = read.subjects.get(norm(subject_name))
    if subject_id is None:
        subject_id = slug(subject_name)
        read.subjects[norm(subject_name)] = subject_id
        read.names[subject_id] = subject_name
        plan.writes.rows.append(Subject(id=subject_id, name=subject_name))
        plan.additions.append(f"предмет «{subject_name}»")
    return subject_id


def _load_line(
    plan: Plan,
    read: _Load,
    number: int,
    line: dict[str, str],
    teacher: str,
    class_id: str,
    subject_id: str,
    hours: float,
) -> None:
    """One class of a load line, whole or one of its groups."""
    group = group_label(line.get("Группа", ""))
    place = (class_id, subject_id, group)
    if place in read.seen:
        first, who = read.seen[place]
        what = f"группа {group}" if group else "весь класс"
        plan.error(
            number,
            f"{read.names[subject_id]}, {_class_label(plan, class_id)}, {what}: уже в строке "
            f"{first} ({who}).",
        )
        return
    read.seen[place] = (number, _teacher_name(plan, teacher))
    read.named_classes.add(class_id)
    read.load[(teacher, class_id, subject_id, group)] = hours


def _combined_line(
    plan: Plan, read: _Load, number: int, teacher: str, class_ids: list[str], subject_id: str
) -> None:
    together = "+".join(sorted(class_ids))
    for class_id in class_ids:
        if (subject_id, class_id) in read.combined:
            plan.error(
                number,
                f"{_class_label(plan, class_id)}, {read.names[subject_id]}: класс уже в другом "
                "классе-комплекте.",
            )
        read.combined[(subject_id, class_id)] = together
    read.sets[together] = (teacher, subject_id)


def _plan_combined(plan: Plan, read: _Load) -> None:
    """Класс-комплект: classes of different grades taught one subject in one lesson."""
    before = {k: v for k, v in plan.now.combined.items() if k[1] in read.named_classes}
    combined, names = read.combined, read.names
    for together, (teacher, subject_id) in sorted(read.sets.items()):
        classes = together.split("+")
        if all(before.get((subject_id, c)) == together for c in classes):
            continue
        labels = "+".join(_class_label(plan, c) for c in classes)
        plan.additions.append(
            f"{_teacher_name(plan, teacher)}: {labels}, {names[subject_id]} — класс-комплект "
            "(урок записывается один раз в журнал каждого класса)"
        )
    for key, together in sorted(combined.items()):
        if before.get(key) != together:
            plan.writes.combined.append((*key, together))
    for key in sorted(before.keys() - combined.keys()):
        plan.writes.drop_combined.append(key)
        plan.leavers.append(
            f"{_class_label(plan, key[1])}, {names.get(key[0], key[0])}: больше не в "
            "классе-комплекте"
        )


def _finish_load(
    plan: Plan,
    named_classes: set[str],
    load: dict[tuple[str, str, str, str], float],
    names: dict[str, str],
) -> None:
    now = plan.now
    before = {k: v for k, v in now.load.items() if k[1] in named_classes}
    before_teaching = {t for t in now.teaching if t[1] in named_classes}
    for key, hours in load.items():
        teacher, class_id, subject_id, group = key
        text = (
            f"{_teacher_name(plan, teacher)}: {_class_label(plan, class_id)}, "
            f"{names[subject_id]}"
            + (f", группа {group}" if group else "")
            + (f", {hours:g} ч в неделю" if hours else "")
        )
        if key not in before:
            plan.additions.append(text)
        elif before[key] != hours:
            plan.changes.append(f"{text} (было {before[key]:g} ч)")
        if before.get(key) != hours:
            plan.writes.load.append((*key, hours))
    for key in before.keys() - load.keys():
        teacher, class_id, subject_id, group = key
        plan.leavers.append(
            f"{_teacher_name(plan, teacher)}: {_class_label(plan, class_id)}, "
            f"{names[subject_id]}" + (f", группа {group}" if group else "") + " — снимается"
        )
        plan.writes.drop_load.append(key)
    teaching = {(t, c, s) for t, c, s, _ in load}
    plan.writes.rows += [
        TeachingAssignment(teacher_id=t, class_id=c, subject_id=s)
        for t, c, s in sorted(teaching - before_teaching)
    ]
    plan.writes.drop_teaching += sorted(before_teaching - teaching)
    for _t, c, s in sorted(before_teaching - teaching):
        if not any(k[:3] == (_t, c, s) for k in before):  # not already listed above
            plan.leavers.append(
                f"{_teacher_name(plan, _t)}: {_class_label(plan, c)}, {names[s]} — снимается"
            )
    filled = {(c, s, slug(row["group_name"])) for (_, c, s), row in now.groups.items()}
    empty = sorted({(c, s, g) for _, c, s, g in load if g and (c, s, slug(g)) not in filled})
    if empty:
        named = ", ".join(
            f"{_class_label(plan, c)} {names[s]} (группа {g})" for c, s, g in empty[:5]
        )
        more = f" и ещё {len(empty) - 5}" if len(empty) > 5 else ""
        plan.notes.append(
            f"В группах {named}{more} пока нет учеников: журнал группы будет пустым, пока в "
            "списке учеников (столбец «Группы») не указано, кто в какой группе."
        )
    if plan.writes.drop_teaching:
        plan.notes.append(
            "Снятая нагрузка не стирает журналов: записанные уроки и оценки остаются."
        )
