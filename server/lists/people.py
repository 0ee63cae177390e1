"""Pupils, parents and staff from the school's lists, matched by a stable key (СНИЛС, else full
name and birth date) so that re-importing an edited list updates people and never doubles them."""

from __future__ import annotations

import datetime as dt

from server.importer import POSITIONS, class_of
from server.lists import groups
from server.lists.plan import PersonLine, Plan, class_name, find, new_id, person
from server.lists.reading import Table
from shared.model import Membership, Parent, ParentLink, Role, Staff, Student

_TITLES = {role: title for title, role in reversed(POSITIONS.items())}


def _fio_index(rows: dict[str, dict], *, birth: bool = True) -> dict[str, str]:
    """Full name (and birth date) → id of the people already held, for those imported before
    keys were kept; a name held twice is left out (it cannot say which)."""
    index: dict[str, str] = {}
    twice = set()
    for pid, row in rows.items():
        who = PersonLine(
            last=row["last_name"],
            first=row["first_name"],
            patronymic=row["patronymic"],
            birth=dt.date.fromisoformat(row["birth_date"])
            if birth and row.get("birth_date")
            else None,
            snils=None,
        )
        key = who.stable_keys()[-1]
        if key in index:
            twice.add(key)
        index[key] = pid
    return {k: v for k, v in index.items() if k not in twice}


def _renamed(row: dict, who: PersonLine, birth: bool = True) -> list[str]:
    fields = [("фамилия", "last_name", who.last), ("имя", "first_name", who.first)]
    fields.append(("отчество", "patronymic", who.patronymic))
    out = [
        f"{label} {row[col] or '—'} → {new or '—'}" for label, col, new in fields if row[col] != new
    ]
    if birth and row.get("birth_date") != (who.birth.isoformat() if who.birth else None):
        out.append(f"дата рождения {row.get('birth_date') or '—'} → {who.birth or '—'}")
    return out


def _duplicate(
    plan: Plan, seen: dict[str, tuple[int, str]], who: PersonLine, number: int, tag: str = ""
) -> bool:
    for key in who.stable_keys():
        first = seen.get(key + tag)
        if first is not None:
            same = "тот же СНИЛС" if key.startswith("snils:") else "тот же человек"
            plan.error(number, f"{same}, что в строке {first[0]} ({first[1]}): человек дважды.")
            return True
    for key in who.stable_keys():
        seen[key + tag] = (number, who.shown)
    return False


def plan_pupils(plan: Plan, table: Table) -> None:
    now, on = plan.now, plan.on
    fallback = _fio_index(now.pupils)
    seen: dict[str, tuple[int, str]] = {}
    named_classes: set[str] = set()
    in_file: set[str] = set()
    taken = set(now.pupils)
    with_groups = groups.COLUMN in table.header
    grouped: dict[str, tuple[str, str, dict[str, str]]] = {}
    for number, line in table.lines:
        who = person(plan, number, line, birth_required=True)
        school_class = class_of(now.year_id, line.get("Класс", ""))
        if school_class is None:
            plan.error(number, f"класс «{line.get('Класс', '')}» не распознан (нужно как «5А»).")
        wanted = groups.wanted_groups(plan, number, line.get(groups.COLUMN, ""))
        if who is None or school_class is None or _duplicate(plan, seen, who, number):
            continue
        if wanted is None:
            continue
        named_classes.add(school_class.id)
        pid = find(plan, "pupil", who, fallback)
        existing = now.pupils.get(pid) if pid else None
        if pid is None:
            pid = new_id("s", who, taken)
            taken.add(pid)
        in_file.add(pid)
        student = Student(
            id=pid,
            last_name=who.last,
            first_name=who.first,
            patronymic=who.patronymic,
            birth_date=who.birth,
        )
        plan.writes.keys[("pupil", pid)] = who.stable_keys()
        if school_class.id not in now.classes:
            plan.writes.rows.append(school_class)
        label = class_name(school_class)
        member = now.memberships.get(pid)
        if existing is None:
            plan.additions.append(f"{who.shown} — {label}")
        if existing is None or _renamed(existing, who):
            plan.writes.rows.append(student)
        if existing is not None and _renamed(existing, who):
            plan.changes.append(f"{who.shown}: {'; '.join(_renamed(existing, who))}")
        if with_groups:
            moved = bool(member) and member["class_id"] != school_class.id
            groups.plan_groups(plan, pid, school_class.id, who.shown, wanted, moved)
            grouped[pid] = (school_class.id, who.shown, wanted)
        if member and member["class_id"] == school_class.id:
            continue
        if member:
            old = now.classes[member["class_id"]]
            plan.changes.append(f"{who.shown}: из {class_name(old)} в {label} с {on:%d.%m.%Y}")
            _leave(plan, member)
        elif existing is not None:
            plan.changes.append(f"{who.shown}: снова в {label} с {on:%d.%m.%Y}")
        plan.writes.rows.append(Membership(student_id=pid, class_id=school_class.id, starts=on))
    if with_groups:
        groups.note_ungrouped(plan, grouped)
    for pid, member in now.memberships.items():
        if member["class_id"] in named_classes and pid not in in_file:
            row = now.pupils[pid]
            name = f"{row['last_name']} {row['first_name']} {row['patronymic']}".strip()
            label = class_name(now.classes[member["class_id"]])
            plan.leavers.append(f"{name} — {label}: нет в списке, выбывает с {on:%d.%m.%Y}")
            _leave(plan, member)
    members = sum(1 for m in now.memberships.values() if m["class_id"] in named_classes)
    if plan.leavers and len(plan.leavers) * 4 > members:
        plan.notes.append(
            f"Внимание: выбывает {len(plan.leavers)} из {members} учеников названных в файле "
            "классов. Проверьте, что в файле полный список каждого класса."
        )
    if plan.leavers:
        plan.notes.append(
            "Выбытие по приказу (куда, номер приказа) оформляется в книге движения; "
            "оценки выбывших остаются в журналах."
        )


def _leave(plan: Plan, member: dict) -> None:
    """The pupil is in the class until the day before `on`; a place that starts on or after
    `on` never began and is removed."""
    for (student, class_id, _), row in plan.now.groups.items():
        if student == member["student_id"] and class_id == member["class_id"]:
            groups.leave_group(plan, row)
    starts = member["starts"]
    if starts >= plan.on.isoformat():
        plan.writes.drop_memberships.append((member["student_id"], member["class_id"], starts))
    else:
        ends = (plan.on - dt.timedelta(days=1)).isoformat()
        plan.writes.end_memberships.append((member["student_id"], member["class_id"], starts, ends))


def plan_parents(plan: Plan, table: Table) -> None:
    now = plan.now
    children_index = _fio_index(now.pupils)
    # by name, only the parents of this school's pupils (plan.find: another school's namesake
    # is another person)
    parents_index = _fio_index(
        {pid: row for pid, row in now.parents.items() if pid in now.links}, birth=False
    )
    seen: dict[str, tuple[int, str]] = {}
    parent_of_line: dict[str, tuple[int, PersonLine, str]] = {}
    wanted: dict[str, dict[str, str]] = {}  # parent id -> child id -> child's name
    named: dict[str, PersonLine] = {}
    taken = set(now.parent_ids)
    for number, line in table.lines:
        who = person(plan, number, line)
        child = person(plan, number, line, suffix=" ребёнка", birth_required=True, with_snils=False)
        if who is None or child is None:
            continue
        child_id = find(plan, "pupil", child, children_index)
        if child_id is None or child_id not in now.memberships:
            plan.error(
                number,
                f"ученика {child.shown} нет среди учеников школы: сначала загрузите список "
                "учеников (или проверьте ФИО и дату рождения).",
            )
            continue
        if _duplicate(plan, seen, who, number, tag=f"→{child_id}"):
            continue
        found = find(plan, "parent", who, parents_index) or find(
            plan, "parent", _no_birth(who), parents_index
        )
        key = who.stable_keys()[0]
        if key in parent_of_line:
            first_line, first_who, pid = parent_of_line[key]
            if first_who.name != who.name:
                plan.error(number, f"тот же СНИЛС, что в строке {first_line}, а ФИО другое.")
                continue
        else:
            pid = found or new_id("p", who, taken)
            taken.add(pid)
            parent_of_line[key] = (number, who, pid)
            named[pid] = who
        wanted.setdefault(pid, {})[child_id] = child.name
    for pid, kids in wanted.items():
        who = named[pid]
        row = now.parents.get(pid)
        plan.writes.keys[("parent", pid)] = who.stable_keys()
        if row is None or _renamed(row, who, birth=False):
            plan.writes.rows.append(
                Parent(id=pid, last_name=who.last, first_name=who.first, patronymic=who.patronymic)
            )
        had = now.links.get(pid, set())
        added = [name for kid, name in kids.items() if kid not in had]
        dropped = [kid for kid in had if kid not in kids]
        plan.writes.rows += [ParentLink(parent_id=pid, student_id=k) for k in kids if k not in had]
        plan.writes.drop_links += [(pid, k) for k in dropped]
        if row is None:
            plan.additions.append(f"{who.name} — родитель: {', '.join(added)}")
            continue
        what = _renamed(row, who, birth=False)
        what += [f"добавлен ребёнок {name}" for name in added]
        what += [f"больше не родитель ученика {_pupil_name(now.pupils[k])}" for k in dropped]
        if what:
            plan.changes.append(f"{who.name}: {'; '.join(what)}")


def _pupil_name(row: dict) -> str:
    return f"{row['last_name']} {row['first_name']} {row['patronymic']}".strip()


def plan_staff(plan: Plan, table: Table) -> None:
    now = plan.now
    kind = f"staff:{now.school_id}"
    fallback = _fio_index(now.staff, birth=False)
    seen: dict[str, tuple[int, str]] = {}
    in_file = set()
    taken = set(now.staff)
    for number, line in table.lines:
        who = person(plan, number, line)
        roles: list[Role] = []
        for part in (p.strip() for p in line.get("Должность", "").replace("/", ",").split(",")):
            role = POSITIONS.get(" ".join(part.lower().split()))
            if part and role is None:
                plan.error(number, f"должность «{part}» не распознана.")
            elif role is not None and role not in roles:
                roles.append(role)
        if not roles and line.get("Должность", "") == "":
            plan.error(number, "не указана должность.")
        if who is None or not roles or _duplicate(plan, seen, who, number):
            continue
        pid = find(plan, kind, who, fallback) or find(plan, kind, _no_birth(who), fallback)
        row = now.staff.get(pid) if pid else None
        if pid is None:
            pid = new_id("t", who, taken)
            taken.add(pid)
        in_file.add(pid)
        plan.writes.keys[(kind, pid)] = who.stable_keys()
        staff = Staff(
            id=pid,
            last_name=who.last,
            first_name=who.first,
            patronymic=who.patronymic,
            roles=tuple(roles),
        )
        if row is None:
            plan.additions.append(f"{who.name} — {', '.join(_TITLES[r] for r in roles)}")
            plan.writes.rows.append(staff)
            continue
        what = _renamed(row, who, birth=False)
        if set(row["roles"]) != set(roles):
            what.append("должность изменена")
        if what:
            plan.changes.append(f"{who.name}: {'; '.join(what)}")
            plan.writes.rows.append(staff)
    for pid, row in now.staff.items():
        if pid not in in_file:
            plan.leavers.append(
                f"{_pupil_name(row)}: нет в списке (запись и учётная запись остаются; "
                "нагрузку снимите в файле нагрузки)"
            )


def _no_birth(who: PersonLine) -> PersonLine:
    return PersonLine(
        last=who.last, first=who.first, patronymic=who.patronymic, birth=None, snils=None
    )
