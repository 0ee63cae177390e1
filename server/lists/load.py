"""Class teachers and the teaching load (teacher × class × subject × group, hours a week): the
classes must already be in the year's lists and the teachers in the staff list."""

from __future__ import annotations

import re

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


def _hours(plan: Plan, number: int, text: str) -> float | None:
    if not text:
        return 0.0
    try:
        hours = float(text.replace(",", "."))
    except ValueError:
        hours = -1.0
    if not 0 < hours <= 40:
        plan.error(number, f"часов в неделю «{text}»: нужно число от 0,5 до 40.")
        return None
    return hours


def plan_load(plan: Plan, table: Table) -> None:
    now = plan.now
    index = _teachers(plan)
    subjects = {norm(name): sid for sid, name in now.subjects.items()}
    names = dict(now.subjects)
    seen: dict[tuple[str, str, str], tuple[int, str]] = {}
    named_classes: set[str] = set()
    load: dict[tuple[str, str, str, str], float] = {}
    for number, line in table.lines:
        teacher = _teacher(plan, index, number, line.get("Учитель", ""))
        class_id = _class(plan, number, line.get("Класс", ""), "нагрузка")
        subject_name = line.get("Предмет", "").strip()
        hours = _hours(plan, number, line.get("Часов в неделю", ""))
        if not subject_name:
            plan.error(number, "не указан предмет.")
        if teacher is None or class_id is None or not subject_name or hours is None:
            continue
        subject_id = subjects.get(norm(subject_name))
        if subject_id is None:
            subject_id = slug(subject_name)
            subjects[norm(subject_name)] = subject_id
            names[subject_id] = subject_name
            plan.writes.rows.append(Subject(id=subject_id, name=subject_name))
            plan.additions.append(f"предмет «{subject_name}»")
        group = group_label(line.get("Группа", ""))
        place = (class_id, subject_id, group)
        if place in seen:
            first, who = seen[place]
            what = f"группа {group}" if group else "весь класс"
            plan.error(
                number,
                f"{subject_name}, {line['Класс']}, {what}: уже в строке {first} ({who}).",
            )
            continue
        seen[place] = (number, _teacher_name(plan, teacher))
        named_classes.add(class_id)
        load[(teacher, class_id, subject_id, group)] = hours
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
    filled = {(c, s, row["group_name"]) for (_, c, s), row in now.groups.items()}
    empty = sorted({(c, s, g) for _, c, s, g in load if g and (c, s, g) not in filled})
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
