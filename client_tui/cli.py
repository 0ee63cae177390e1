"""journal: the teacher's headless commands, calling the same services as the Textual app.

Examples:
  journal login --server http://10.0.0.5:8000 --login petrova.as
  journal lesson "5:Математика" --date 2026-11-20 --topic "Дроби" --homework "§12"
  journal mark "5:Математика" --lesson 2026-11-20 --student 3 --value 5
  journal attend "5:Математика" --lesson 2026-11-20 --all-present
  journal achievement add 5 --student 3 --kind олимпиада --title "Школьный этап ВсОШ" \
      --level школьный --result победитель --date 15.10.2026 --file ~/диплом.pdf
  journal sync && journal status
  journal                      (no command: the Textual app; also `journal tui`)
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from client_tui.console import NoPassword, configure_output, read_password
from client_tui.services.api import SyncError, TemporaryFailure
from client_tui.services.editor import JournalEditor
from client_tui.services.entry import LETTER_CODES, WORK_KINDS
from client_tui.services.local_log import LOG_NAME, LOGGER, close_local_log, open_local_log
from client_tui.services.portfolio import AchievementForm
from client_tui.services.session import NotLoggedIn, Session, default_home
from client_tui.services.store_crypto import StoreError, WrongPassword
from client_tui.services.sync import BackgroundSync, SyncReport
from shared import groups
from shared.columns import Column, class_columns, find_column
from shared.fold import JournalState
from shared.model import (
    ACHIEVEMENT_KIND_RU,
    ACHIEVEMENT_LEVEL_RU,
    ACHIEVEMENT_RESULT_RU,
    ATTENDANCE_LETTERS,
    JournalInfo,
    LessonRecorded,
    MarkKind,
    MarkSpecial,
    NotAttestedReason,
    Student,
    WorkKind,
)
from shared.release import installed_version
from shared.rules import RuleViolation
from shared.russian_argparse import RussianArgumentParser
from shared.scales import mark_text, parse_typed


class UsageError(Exception):
    pass


# ---------------------------------------------------------------------- lookups


def find_journal(session: Session, text: str) -> JournalInfo:
    directory = session.directory
    classes = {c.id: c.name.lower() for c in directory.classes}
    subjects = {s.id: s.name.lower() for s in directory.subjects}
    for journal in directory.journals:
        if journal.id == text:
            return journal
    class_part, _, subject_part = text.lower().partition(":")
    subject_part, _, group_part = subject_part.partition(":")  # «5а:английский язык:1»
    group_part = group_part.strip()
    found = [
        j
        for j in directory.journals
        if classes.get(j.class_id) == class_part.strip()
        and (
            (
                subject_part.strip() in (j.subject_id, subjects.get(j.subject_id))
                and (not group_part or group_part in (j.group, _group_label(directory, j)))
            )
            or subject_part.strip() == groups.section_title(directory, j).lower()
        )
    ]
    if len(found) > 1 and not group_part:  # a class journal beside groups: the class's
        found = [j for j in found if not j.group] or found
    if len(found) != 1:
        raise UsageError(f"Журнал «{text}» не найден. Список: journal journals")
    return found[0]


def _group_label(directory, journal: JournalInfo) -> str:
    group = groups.group_of(directory, journal)
    return group.name.lower() if group else journal.group


def find_student(session: Session, journal: JournalInfo, text: str) -> Student:
    roster = groups.roster(session.directory, journal)
    if text.isdigit() and 1 <= int(text) <= len(roster):
        return roster[int(text) - 1]
    found = [s for s in roster if text in (s.id,) or s.last_name.lower() == text.lower()]
    if len(found) != 1:
        raise UsageError(f"Ученик «{text}» не найден (номер по списку, фамилия или id).")
    return found[0]


def find_lesson(state: JournalState, text: str) -> LessonRecorded:
    """A lesson by id, by date (20.11.2026 as the README writes it, or 2026-11-20) or by date
    and slot (20.11.2026#2)."""
    lessons = state.lessons()
    date_part, _, slot = text.partition("#")
    try:
        day = parse_date(date_part)
    except UsageError:
        day = None  # an id, then
    found = [
        lesson
        for lesson in lessons
        if lesson.lesson_id == text
        or (lesson.date == day and (not slot or str(lesson.slot) == slot))
    ]
    if len(found) != 1:
        more = " (сдвоенный урок: укажите #1 или #2)" if len(found) > 1 else ""
        raise UsageError(f"Урок «{text}» не найден{more}.")
    return found[0]


def parse_date(text: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m"):
        try:
            value = dt.datetime.strptime(text, fmt).date()
            return value.replace(year=dt.date.today().year) if fmt == "%d.%m" else value
        except ValueError:
            continue
    raise UsageError(f"Дата «{text}» не распознана: пишите ДД.ММ.ГГГГ или ГГГГ-ММ-ДД.")


# ---------------------------------------------------------------------- commands


def cmd_login(session: Session, args: argparse.Namespace) -> int:
    password = read_password()
    if session.locked:  # logging in again: the store opens with the password it has
        try:
            session.unlock(password)
        except WrongPassword:
            # the password was changed on the server: the old one opens the store, which the
            # login then re-keys ($ZHURNAL_OLD_PASSWORD for a script)
            old = os.environ.get("ZHURNAL_OLD_PASSWORD") or read_password(OLD_PASSWORD_PROMPT)
            session.unlock(old)
    tty = sys.stderr.isatty()  # a progress line for a person; a script gets the result only

    def progress(done: int, total: int) -> None:
        bar = "█" * (20 * done // max(total, 1))
        print(f"\rЗагрузка журналов: [{bar:<20}] {done} из {total}", end="", file=sys.stderr)
        sys.stderr.flush()

    report = session.login(
        args.server,
        args.login,
        password,
        device_name=args.device_name,
        progress=progress if tty else None,
    )
    if tty:
        print(file=sys.stderr)
    journals = session.directory.journals
    print(f"Вход выполнен. Устройство зарегистрировано; журналов: {len(journals)}.")
    if report is None:
        print(
            "Журналы загружены не полностью: связь прервалась. Загрузка продолжится "
            "при следующей синхронизации (journal sync).",
            file=sys.stderr,
        )
        return 3
    return 0


def cmd_journals(session: Session, args: argparse.Namespace) -> int:
    for s in session.book.summaries():
        mode = "запись" if s.info.writable else "только чтение"
        extra = "".join(
            [
                f", ждут отправки: {s.pending}" if s.pending else "",
                f", отклонено: {s.refused}" if s.refused else "",
                f", конфликтов: {s.conflicts}" if s.conflicts else "",
            ]
        )
        print(f"{s.class_name}:{s.subject_name:<22} [{mode}]{extra}   {s.info.id}")
    return 0


def cmd_show(session: Session, args: argparse.Namespace) -> int:
    journal = find_journal(session, args.journal)
    state = session.book.state(journal.id)
    month = args.month or dt.date.today().strftime("%Y-%m")
    lessons = [lesson for lesson in state.lessons() if lesson.date.strftime("%Y-%m") == month]
    roster = groups.roster(session.directory, journal)
    print(f"{journal.id}  месяц {month}")
    print(f"{'':>3} {'Ученик':<24}" + "".join(f"{lsn.date:%d}".rjust(5) for lsn in lessons))
    for number, student in enumerate(roster, start=1):
        cells = []
        for lesson in lessons:
            marks = "/".join(str(m.value) for m in state.marks(lesson.lesson_id, student.id))
            code = state.attendance(lesson.lesson_id, student.id)
            cells.append((marks or ATTENDANCE_LETTERS.get(code, "") if code else marks).rjust(5))
        print(f"{number:>3} {student.short_name:<24}" + "".join(cells))
    for lesson in lessons:
        print(
            f"  {lesson.date:%d.%m} #{lesson.slot} {lesson.topic}  ДЗ: {lesson.homework}"
            f"  [{lesson.lesson_id}]"
        )
    conflicts = state.conflicts()
    if conflicts:
        print(f"Конфликтов в журнале: {len(conflicts)} (journal conflicts)")
    return 0


def cmd_lesson(session: Session, args: argparse.Namespace) -> int:
    journal = find_journal(session, args.journal)
    kind = WORK_KINDS.get(args.kind.lower()) if args.kind else WorkKind.REGULAR
    if kind is None:
        raise UsageError(f"Вид работы: {', '.join(k for k in WORK_KINDS if not k.isascii())}.")
    lesson_id = None
    if args.edit:
        lesson_id = find_lesson(session.book.state(journal.id), args.edit).lesson_id
    lesson = session.book.record_lesson(
        journal.id,
        date=parse_date(args.date) if args.date else dt.date.today(),
        topic=args.topic or "",
        homework=args.homework or "",
        work_kind=kind,
        slot=args.slot,
        lesson_id=lesson_id,
        reason=args.reason or "",
    )
    print(f"Сохранено: урок {lesson.date:%d.%m.%Y} #{lesson.slot} [{lesson.lesson_id}]")
    together = session.book.lesson_journals(journal.id, lesson.lesson_id)[1:]
    if together:  # класс-комплект: the same lesson in each class's journal
        classes = {c.id: c.name for c in session.directory.classes}
        names = ", ".join(classes.get(session.book.info(j).class_id, j) for j in together)
        print(f"Класс-комплект: урок записан и в журнал {names}.")
    return 0


def cmd_mark(session: Session, args: argparse.Namespace) -> int:
    journal = find_journal(session, args.journal)
    lesson = find_lesson(session.book.state(journal.id), args.lesson)
    student = find_student(session, journal, args.student)
    kind = WORK_KINDS.get(args.kind.lower()) if args.kind else None
    typed = parse_typed(args.value)
    if typed is None:
        raise UsageError("Отметка: 1–5 (с «+»/«−», если школа разрешила), «зач» или «незач».")
    mark = session.book.give_mark(
        journal.id,
        lesson.lesson_id,
        student.id,
        typed.value,
        slot=args.slot,
        work_kind=kind,
        weight=args.weight,
        reason=args.reason or "",
        modifier=typed.modifier,
        special=typed.special,
    )
    shown = mark_text(mark.value, mark.modifier, mark.special)
    print(f"Сохранено: {student.short_name} — {shown} за {lesson.date:%d.%m} [{mark.id}]")
    return 0


def cmd_attend(session: Session, args: argparse.Namespace) -> int:
    journal = find_journal(session, args.journal)
    lesson = find_lesson(session.book.state(journal.id), args.lesson)
    if args.all_present:  # the app's «=»: only where nothing is marked, absences stay
        roster = groups.roster(session.directory, journal, lesson.date)
        edit = JournalEditor(session.book).fill_column(
            journal.id, lesson.lesson_id, [s.id for s in roster]
        )
        kept = len(roster) - len(edit.events)
        print(
            f"Сохранено: посещаемость {lesson.date:%d.%m}, отмечены присутствующими: "
            f"{len(edit.events)}; уже отмеченных не трогали: {kept}"
        )
        return 0
    else:
        code = LETTER_CODES.get((args.code or "").lower())
        if code is None:
            raise UsageError(
                "Код посещаемости: н (отсутствовал), б (болел, есть справка), "
                "у (уважительная причина), о (опоздал), п (присутствовал)."
            )
        students = [find_student(session, journal, s) for s in args.students.split(",")]
    session.book.mark_attendance(
        journal.id, lesson.lesson_id, [s.id for s in students], code, reason=args.reason or ""
    )
    print(f"Сохранено: посещаемость {lesson.date:%d.%m}, учеников: {len(students)}")
    return 0


NA_REASONS = {  # «н/а» because of: the Russian names the help lists, and the codes
    "пропуски": NotAttestedReason.ABSENCES,
    "по пропускам": NotAttestedReason.ABSENCES,
    "absences": NotAttestedReason.ABSENCES,
    "нет отметок": NotAttestedReason.NO_MARKS,
    "нет-отметок": NotAttestedReason.NO_MARKS,
    "no_marks": NotAttestedReason.NO_MARKS,
}


def _date_arg(text: str) -> dt.date:
    """A whole date as the README writes it (20.11.2026), or 2026-11-20."""
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"«{text}»: дата в виде ДД.ММ.ГГГГ, например 20.11.2026")


def _special_fields(args: argparse.Namespace, special: MarkSpecial) -> dict:
    """The fields «н/а» and «осв.» need, from their options; an option that belongs to
    another value is an error, not silently dropped (the teacher meant something by it)."""
    fields: dict = {"special": special}
    exempt_options = [
        name
        for name, value in (
            ("--document", args.document),
            ("--from", args.exempt_from),
            ("--to", args.exempt_to),
        )
        if value is not None
    ]
    if special is not MarkSpecial.EXEMPT and exempt_options:
        raise UsageError(f"{', '.join(exempt_options)} — только для «осв.» (освобождён).")
    if special is not MarkSpecial.NOT_ATTESTED and args.na_reason is not None:
        raise UsageError("--na-reason — только для «н/а» (не аттестован).")
    if special is MarkSpecial.NOT_ATTESTED and args.na_reason is not None:
        wanted = " ".join(args.na_reason.lower().split())
        if wanted not in NA_REASONS:
            raise UsageError(
                f"Причина «н/а» «{args.na_reason}» не известна: пропуски или «нет отметок»."
            )
        fields["na_reason"] = NA_REASONS[wanted]
    if special is MarkSpecial.EXEMPT:  # missing ones: the rule says what and why (004 §1.4)
        fields |= {
            "document": (args.document or "").strip(),
            "exempt_from": args.exempt_from,
            "exempt_to": args.exempt_to,
        }
    return fields


def cmd_period_mark(session: Session, args: argparse.Namespace) -> int:
    journal = find_journal(session, args.journal)
    student = find_student(session, journal, args.student)
    column = find_column(session.directory, journal.class_id, args.period)
    if args.topic and column is not None:
        column = Column(column.period, MarkKind.THEMATIC, f"Тема «{args.topic}»")
    if column is None:
        names = ", ".join(c.title for c in class_columns(session.directory, journal.class_id))
        raise UsageError(f"Нет колонки «{args.period}» в этом журнале. Есть: {names}.")
    typed = parse_typed(args.value)
    if typed is None or typed.modifier:
        raise UsageError("Отметка: 1–5, «зач», «незач», «н/а» или «осв.».")
    special = _special_fields(args, typed.special)
    mark = session.book.give_period_mark(
        journal.id,
        column.period.id,
        student.id,
        typed.value,
        mark_kind=column.kind,
        topic=args.topic or "",
        reason=args.reason or "",
        **special,
    )
    shown = mark_text(mark.value, special=mark.special)
    print(f"Сохранено: {student.short_name} — {shown}, {column.name} [{mark.id}]")
    return 0


def cmd_retract(session: Session, args: argparse.Namespace) -> int:
    journal = find_journal(session, args.journal)
    event = session.book.retract(journal.id, args.event, reason=args.reason or "")
    print(f"Запись отменена [{event.id}]")
    return 0


def choose(labels: dict, text: str | None, what: str):
    """An enum value by its Russian label (any case, a unique beginning will do) or its code."""
    if text is None:
        return None
    wanted = text.strip().lower()
    found = [v for v, name in labels.items() if wanted in (v.value, name.lower())]
    found = found or [v for v, name in labels.items() if name.lower().startswith(wanted)]
    if len(found) != 1:
        names = ", ".join(labels.values())
        raise UsageError(f"{what} «{text}» не распознан(а). Возможно: {names}.")
    return found[0]


def cmd_achievement_add(session: Session, args: argparse.Namespace) -> int:
    portfolio = session.portfolio
    school_class = portfolio.find_class(args.school_class)
    info = JournalInfo(id="", year_id=school_class.year_id, class_id=school_class.id, subject_id="")
    student = find_student(session, info, args.student)
    fields = {
        "kind": choose(ACHIEVEMENT_KIND_RU, args.kind, "Вид"),
        "level": choose(ACHIEVEMENT_LEVEL_RU, args.level, "Уровень"),
        "result": choose(ACHIEVEMENT_RESULT_RU, args.result, "Результат"),
    }
    form = AchievementForm(
        student_id=student.id,
        title=args.title,
        date=parse_date(args.date) if args.date else dt.date.today(),
        area=args.area or "",
        organiser=args.organiser or "",
        external=args.external,
        family_consent=args.consent,
        file=args.file or "",
        **{k: v for k, v in fields.items() if v is not None},
    )
    event = portfolio.add(school_class.id, form, achievement_id=args.edit, reason=args.reason or "")
    document = f", документ {event.attachment.name} ждёт отправки" if event.attachment else ""
    print(
        f"Сохранено в портфолио {school_class.name}: {student.short_name} — «{event.title}»"
        f"{document} [{event.achievement_id}]"
    )
    return 0


def cmd_achievement_list(session: Session, args: argparse.Namespace) -> int:
    portfolio = session.portfolio
    class_id = portfolio.find_class(args.school_class).id if args.school_class else None
    views = portfolio.achievements(class_id)
    if not views:
        print("Достижений нет.")
    for v in views:
        where = ", ".join(p for p in (v.area, v.level, v.organiser) if p)
        external = ", другая организация (с согласия семьи)" if v.external else ""
        print(
            f"{v.date:%d.%m.%Y} {v.class_name} {v.pupil}: {v.kind} «{v.title}» ({where}) — "
            f"{v.result}{external}; документ: {v.document}; запись: {v.state} "
            f"[{v.achievement_id}]"
        )
    return 0


def cmd_achievement_remove(session: Session, args: argparse.Namespace) -> int:
    school_class = session.portfolio.find_class(args.school_class)
    session.portfolio.retract(school_class.id, args.achievement, reason=args.reason or "")
    print(f"Достижение убрано из портфолио [{args.achievement}]")
    return 0


def _print_report(report: SyncReport) -> None:
    state = "завершена" if report.complete else "не завершена"
    print(
        f"Синхронизация {state}: запросов {report.requests}, отправлено "
        f"{report.bytes_sent} Б, получено {report.bytes_received} Б, принято "
        f"{report.accepted}, отклонено {report.refused}."
        + (f" Документов отправлено: {report.files_uploaded}." if report.files_uploaded else "")
        + (f" Ждут отправки: {report.files_waiting}." if report.files_waiting else ""),
        flush=True,
    )
    if report.refused:
        print("Отклонённые записи: journal rejected", flush=True)


def sleep(seconds: float) -> None:
    """The wait between rounds of `sync --watch` (a test replaces it)."""
    time.sleep(seconds)


def cmd_sync(session: Session, args: argparse.Namespace) -> int:
    if args.watch:
        return watch_sync(session, args.interval)
    try:
        report = session.sync()
    except SyncError as exc:
        print(
            f"Нет синхронизации. {exc.message_ru} Записи сохранены на этом компьютере.",
            file=sys.stderr,
        )
        return 3
    _print_report(report)
    return 0 if report.complete else 1


def watch_sync(session: Session, interval: float) -> int:
    """Sync every `interval` seconds until Ctrl+C; when the server does not answer, the same
    capped, jittered back-off as the app's background sync (no hammering a dead link, no
    week-long waits either). Any fault is logged and the next round comes."""

    def show(report: SyncReport | None, message: str) -> None:
        if report is not None:
            _print_report(report)
        else:
            print(
                f"Нет синхронизации. {message} Записи сохранены на этом компьютере.",
                file=sys.stderr,
                flush=True,
            )

    def wait(seconds: float) -> None:
        if rounds.failures:
            print(f"Следующая попытка через {seconds:.0f} с.", file=sys.stderr, flush=True)
        sleep(seconds)

    rounds = BackgroundSync(session.engine(), interval=interval, on_result=show, sleep=wait)
    rounds.run()  # ends with Ctrl+C (KeyboardInterrupt, exit code 130)
    return 0


def cmd_server_address(session: Session, args: argparse.Namespace) -> int:
    address = session.change_server(args.url)
    print(
        f"Адрес сервера изменён: {address}. Устройство и записи прежние, входить заново "
        "не нужно; проверить связь: journal sync"
    )
    return 0


def _when(at: float | None) -> str:
    return time.strftime("%d.%m.%Y %H:%M", time.localtime(at)) if at else "никогда"


def cmd_status(session: Session, args: argparse.Namespace) -> int:
    status = session.status()
    print(
        f"Профиль: {session.profile}  пользователь: {status.login or '—'}  "
        f"сервер: {status.server_url or '—'}"
    )
    print(
        f"Ждут отправки: {status.pending}   отклонено: {status.refused}   "
        f"конфликтов: {status.conflicts}"
    )
    print(f"Последняя успешная синхронизация: {_when(status.last_sync_ok_at)}")
    if status.last_error:
        print(f"Последняя ошибка: {status.last_error}")
    if status.update_version:
        print(
            f"Доступно обновление программы до версии {status.update_version}: "
            f"{status.server_url}/install"
        )
    return 0


def _print_entries(entries, empty: str) -> int:
    if not entries:
        print(empty)
    for entry in entries:
        print(f"{_when(entry.created_at)}  {entry.journal_id}  [{entry.event_id}]")
        print(f"    {entry.message or entry.state}")
        print(f"    запись: {entry.body}")
    return 0


def cmd_rejected(session: Session, args: argparse.Namespace) -> int:
    return _print_entries(session.rejected(), "Отклонённых записей нет.")


def cmd_conflicts(session: Session, args: argparse.Namespace) -> int:
    return _print_entries(session.conflicted(), "Конфликтов нет.")


def cmd_pending(session: Session, args: argparse.Namespace) -> int:
    return _print_entries(session.pending(), "Все записи отправлены.")


def cmd_bundle(session: Session, args: argparse.Namespace) -> int:
    if args.action == "export":
        size = session.export_bundle(args.file)
        print(f"Файл обмена записан: {args.file} ({size} Б). Отнесите его на сервер школы.")
    else:
        report = session.import_bundle(args.file)
        print(f"Ответ сервера принят: принято {report.accepted}, отклонено {report.refused}.")
    return 0


def run_app(home: Path | None, profile: str) -> int:
    """The Textual app: first run asks for the server, later starts work offline."""
    from client_tui.app import JournalApp  # Textual loads only for the app, not for scripts

    JournalApp(home=home, profile=profile).run()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = RussianArgumentParser(
        prog="journal",
        description="Электронный журнал учителя (работает и без сети).",
        epilog="ЖУРНАЛ — номер класса и предмет через двоеточие («5:Математика») или код журнала. "
        "Урок — дата (2026-11-20 или 20.11.2026), для сдвоенного урока с #2.",
    )
    parser.add_argument("--profile", default="default", help="профиль (учётная запись) на ноутбуке")
    parser.add_argument(
        "--version",
        action="version",
        version=f"journal {installed_version()}",
        help="показать версию программы и выйти",
    )
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="папка данных (по умолчанию — из переменной окружения ZHURNAL_HOME, "
        "иначе папка данных пользователя)",
    )
    sub = parser.add_subparsers(dest="command", metavar="команда")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text)

    p = command("login", "войти (нужна связь с сервером один раз)")
    p.add_argument("--server", required=True, help="адрес сервера, например http://10.0.0.5:8000")
    p.add_argument("--login", required=True, help="логин")
    p.add_argument("--device-name", default=None, help="название этого компьютера")
    p.set_defaults(func=cmd_login)

    command("journals", "мои журналы").set_defaults(func=cmd_journals)

    p = command("show", "показать журнал за месяц")
    p.add_argument("journal")
    p.add_argument("--month", help="месяц ГГГГ-ММ (по умолчанию текущий)")
    p.set_defaults(func=cmd_show)

    p = command("lesson", "записать урок: тема, домашнее задание, вид работы")
    p.add_argument("journal")
    p.add_argument("--date", help="дата урока (по умолчанию сегодня)")
    p.add_argument("--topic", help="тема урока")
    p.add_argument("--homework", help="домашнее задание")
    p.add_argument(
        "--kind", help="вид работы: контрольная, практическая, лабораторная, самостоятельная"
    )
    p.add_argument("--slot", type=int, default=1, help="номер урока в сдвоенном (1 или 2)")
    p.add_argument("--edit", help="исправить уже записанный урок (дата или код)")
    p.add_argument("--reason", help="причина исправления")
    p.set_defaults(func=cmd_lesson)

    p = command("mark", "поставить отметку")
    p.add_argument("journal")
    p.add_argument("--lesson", required=True, help="урок: дата или код")
    p.add_argument("--student", required=True, help="номер по списку, фамилия или код")
    p.add_argument("--value", required=True, help="отметка 1–5, 4+, зач, незач")
    p.add_argument("--weight", type=int, help="вес 1–5 (по умолчанию — школьный для вида работы)")
    p.add_argument("--slot", type=int, default=0, help="номер отметки в клетке (0, 1, …)")
    p.add_argument("--kind", help="вид работы (по умолчанию как у урока)")
    p.add_argument("--reason", help="причина исправления")
    p.set_defaults(func=cmd_mark)

    p = command("attend", "отметить посещаемость")
    p.add_argument("journal")
    p.add_argument("--lesson", required=True, help="урок: дата или код")
    p.add_argument("--code", help="н, б, у, о или п")
    p.add_argument("--students", default="", help="номера, фамилии или коды через запятую")
    p.add_argument("--all-present", action="store_true", help="все присутствовали")
    p.add_argument("--reason", help="примечание")
    p.set_defaults(func=cmd_attend)

    p = command("period-mark", "отметка за четверть, полугодие, год, экзамен, итоговая, тема")
    p.add_argument("journal")
    p.add_argument(
        "--period", required=True, help="колонка: «1 четверть», «2 пол.», «Год», «Экз.», «Итог»"
    )
    p.add_argument("--student", required=True)
    p.add_argument("--value", required=True, help="1–5, зач, незач, н/а, осв.")
    p.add_argument("--topic", help="тематическая отметка: тема или модуль периода")
    p.add_argument("--na-reason", help="для «н/а»: пропуски | «нет отметок»")
    p.add_argument("--document", help="для «осв.»: документ об освобождении")
    p.add_argument("--from", dest="exempt_from", type=_date_arg, help="осв. с ДД.ММ.ГГГГ")
    p.add_argument("--to", dest="exempt_to", type=_date_arg, help="осв. по ДД.ММ.ГГГГ")
    p.add_argument("--reason", help="причина исправления")
    p.set_defaults(func=cmd_period_mark)

    p = command("retract", "отменить запись (с причиной, если её требуют правила)")
    p.add_argument("journal")
    p.add_argument("event", help="код записи")
    p.add_argument("--reason", help="причина")
    p.set_defaults(func=cmd_retract)

    p = command("achievement", "достижения учеников в портфолио класса")
    actions = p.add_subparsers(dest="action", metavar="действие", required=True)
    a = actions.add_parser("add", help="записать достижение (или исправить: --edit)")
    a.add_argument("school_class", metavar="класс", help="класс, например 5 или 5А")
    a.add_argument("--student", required=True, help="номер по списку, фамилия или код")
    a.add_argument(
        "--kind", default="олимпиада", help="вид: " + ", ".join(ACHIEVEMENT_KIND_RU.values())
    )
    a.add_argument("--title", required=True, help="название, например «Школьный этап ВсОШ»")
    a.add_argument("--area", help="предмет или область")
    a.add_argument("--level", help="уровень: " + ", ".join(ACHIEVEMENT_LEVEL_RU.values()))
    a.add_argument("--result", help="результат: " + ", ".join(ACHIEVEMENT_RESULT_RU.values()))
    a.add_argument("--date", help="дата (по умолчанию сегодня)")
    a.add_argument("--organiser", help="организатор")
    a.add_argument("--external", action="store_true", help="получено в другой организации")
    a.add_argument("--consent", action="store_true", help="есть согласие семьи (001 §5.1)")
    a.add_argument("--file", help="скан диплома: PDF, PNG или JPEG до 10 МБ")
    a.add_argument("--edit", help="код достижения, которое исправляется")
    a.add_argument("--reason", help="причина исправления")
    a.set_defaults(func=cmd_achievement_add)
    a = actions.add_parser("list", help="достижения классов, чьё портфолио вы ведёте")
    a.add_argument("school_class", metavar="класс", nargs="?", help="только этот класс")
    a.set_defaults(func=cmd_achievement_list)
    a = actions.add_parser("remove", help="убрать достижение из портфолио")
    a.add_argument("school_class", metavar="класс")
    a.add_argument("achievement", help="код достижения (см. journal achievement list)")
    a.add_argument("--reason", help="причина")
    a.set_defaults(func=cmd_achievement_remove)

    p = command("sync", "синхронизировать с сервером")
    p.add_argument("--watch", action="store_true", help="повторять, пока не остановят (Ctrl+C)")
    p.add_argument("--interval", type=float, default=60, help="пауза между попытками, с")
    p.set_defaults(func=cmd_sync)

    p = command("server-address", "сменить адрес сервера школы (без новой регистрации)")
    p.add_argument("url", metavar="АДРЕС", help="новый адрес, например http://10.0.0.5:8000")
    p.set_defaults(func=cmd_server_address)

    command("status", "состояние: связь, очередь, последняя синхронизация").set_defaults(
        func=cmd_status
    )
    command("pending", "записи, ждущие отправки").set_defaults(func=cmd_pending)
    command("rejected", "отклонённые сервером записи и причины").set_defaults(func=cmd_rejected)
    command("conflicts", "конфликты одновременных исправлений").set_defaults(func=cmd_conflicts)

    command("tui", "открыть журнал в окне терминала (то же, что journal без команды)")

    p = command("bundle", "обмен через флешку, когда связи нет совсем")
    p.add_argument(
        "action",
        choices=["export", "import"],
        metavar="ДЕЙСТВИЕ",
        help="export — записать файл для сервера; import — принять ответ сервера",
    )
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_bundle)
    return parser


def main(argv: list[str] | None = None) -> int:
    if argv is None and hasattr(signal, "SIGPIPE"):
        # run as the `journal` program: `journal show … | head` ends quietly. Not when called
        # with arguments from inside another program (the tests): SIG_DFL is process-wide, and
        # a write to a socket whose peer died would then kill that whole process.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    configure_output()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run_command(parser, args)
    except KeyboardInterrupt:
        return 130
    except BaseException as exc:  # pycrdt's PanicException is a BaseException
        if isinstance(exc, (SystemExit, GeneratorExit)):
            raise
        return report_fault(args.home, args.profile)


def report_fault(home: Path | None, profile: str) -> int:
    """Whatever nobody foresaw: the traceback goes to the laptop's log, the teacher reads a
    Russian sentence with the log's path. Entries saved before the fault are in the store."""
    try:
        folder = (home or default_home()) / profile
        handler = open_local_log(folder)
    except Exception:  # the data folder itself is the trouble: log beside the temp files
        folder = Path(tempfile.gettempdir()) / "zhurnal"
        handler = open_local_log(folder)
    try:
        logging.getLogger(LOGGER).exception("journal %s failed", " ".join(sys.argv[1:]))
    finally:
        close_local_log(handler)
    print(
        "Внутренняя ошибка программы. Записи, сохранённые до неё, остались на этом "
        f"компьютере. Подробности для того, кто обслуживает компьютер: {folder / LOG_NAME}",
        file=sys.stderr,
    )
    return 1


UNLOCK_PROMPT = "Пароль (журнал на этом компьютере зашифрован): "
FIRST_KEY_PROMPT = "Пароль для входа в журнал (им будет зашифрован журнал на этом компьютере): "
OLD_PASSWORD_PROMPT = "Прежний пароль (им зашифрован журнал на этом компьютере): "


def unlock(session: Session) -> None:
    """The store opens with the teacher's password: $ZHURNAL_PASSWORD, else asked at the
    terminal, as `login` asks it. A store of an earlier release is encrypted with the first
    password typed, so a person types it twice."""
    if not session.locked:
        return
    session.check_store()
    if not session.plain_store:
        session.unlock(read_password(UNLOCK_PROMPT))
        return
    password = read_password(FIRST_KEY_PROMPT)
    typed = sys.stdin is not None and sys.stdin.isatty() and "ZHURNAL_PASSWORD" not in os.environ
    if typed and read_password("Ещё раз: ") != password:
        raise UsageError("Пароли не совпали; журнал не тронут.")
    session.unlock(password)


def run_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command is None and not (sys.stdin.isatty() and sys.stdout.isatty()):
        parser.print_help()  # a script, not a person at a terminal: no full-screen app
        return 0
    if args.command in (None, "tui"):
        return run_app(args.home, args.profile)
    session = Session(args.home, args.profile)
    try:
        if args.command != "login":
            unlock(session)
        if args.command != "login" and not session.logged_in:
            raise NotLoggedIn()
        return args.func(session, args)
    except RuleViolation as exc:
        print(f"Не сохранено: {exc.message_ru}", file=sys.stderr)
        return 2
    except (UsageError, ValueError) as exc:
        print(f"Ошибка: {exc}", file=sys.stderr)
        return 2
    except (NotLoggedIn, NoPassword, StoreError) as exc:
        print(exc.message_ru, file=sys.stderr)
        return 2
    except TemporaryFailure as exc:
        print(f"Ошибка: {exc.message_ru}", file=sys.stderr)
        return 3
    except SyncError as exc:  # refused: retrying the same thing will not help
        print(f"Ошибка: {exc.message_ru}", file=sys.stderr)
        return 2
    finally:
        session.close()


if __name__ == "__main__":
    sys.exit(main())
