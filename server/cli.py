"""journal-server: run the server and do the school's chores from the command line."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import hashlib
import hmac
import os
import sys
import time
from pathlib import Path

from server.config import ServerConfig
from server.install import cli as install_cli
from server.storage.db import connect
from server.storage.migrations import open_current
from shared.russian_argparse import RussianArgumentParser

DEFAULT_DB = Path(os.environ.get("ZHURNAL_DB", "var/zhurnal.sqlite"))


_open_connections: list = []


def _open(args: argparse.Namespace):
    """The database, schema ensured (refused if newer than the program or not upgraded);
    closed by main() when the command ends."""
    conn = connect(args.db)
    _open_connections.append(conn)
    open_current(conn)
    return conn


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    print(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end, flush=True)


def cmd_init_db(args: argparse.Namespace) -> int:
    _open(args).close()
    print(f"База данных готова: {args.db}")
    return 0


def _demo_consents(conn, parent_ids: list[str]) -> None:
    """The printed parent's signed consent, for each of their children, so that their diary
    opens at once (a real school records it on the class page)."""
    from server.storage.db import transaction
    from server.storage.web import set_consent

    with transaction(conn):
        for parent_id in parent_ids:
            set_consent(conn, parent_id, "given", "demo", time.time(), "демонстрационная школа")


def cmd_load_demo(args: argparse.Namespace) -> int:
    from scripts.seed_demo import build_demo_school, build_neighbour_school
    from server.seeding import load_accounts, load_directory, load_journals

    conn = _open(args)
    if conn.execute("SELECT count(*) FROM years").fetchone()[0] and not args.force:
        print("В базе уже есть школа; демонстрационная не загружена (--force, чтобы дополнить).")
        return 0
    print("Строю демонстрационную школу и соседнюю школу района…")
    schools = [build_demo_school(), build_neighbour_school()]
    config = ServerConfig(database=args.db)
    for school in schools:
        load_directory(conn, school.directory, school.parents, school.parent_links)
        load_accounts(
            conn,
            [(a.login, a.password, a.role, a.person_id) for a in school.accounts],
            time.time(),
        )
        events = sum(len(v) for v in school.events.values())
        print(
            f"Загружаю журналы ({school.directory.school.name}: {len(school.events)} журналов, "
            f"{events} записей)…"
        )
        load_journals(conn, config, school.directory, school.events, progress=_progress)
        print(
            f"Готово: {school.directory.school.name}, {len(school.directory.students)} учеников, "
            f"{len(school.directory.staff)} сотрудников."
        )
    school = schools[0]
    teachers = [a for a in school.accounts if a.role.value == "teacher"][:3]
    printed = [*teachers, *(a for a in school.accounts if a.role.value != "teacher")][:8]
    _demo_consents(conn, [a.person_id for a in printed if a.role.value == "parent"])
    print("Логины для входа (пароли демонстрационные):")
    for account in printed:
        print(f"  {account.login:<16} {account.password:<14} {account.role.value}")
    for account in schools[1].accounts[:1] + schools[1].accounts[-1:]:
        print(f"  {account.login:<16} {account.password:<14} {account.role.value}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app

    app = create_app(ServerConfig.from_env(database=args.db))
    print(f"Сервер журнала: http://{args.host}:{args.port}  (документация API: /schema)")
    workers = getattr(args, "workers", 1)
    if workers > 1:
        # Worker processes import the app themselves: the factory reads the database from the
        # environment. Each has its own caches; they check the database before every use.
        os.environ["ZHURNAL_DB"] = str(args.db)
        uvicorn.run(
            "server.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            workers=workers,
            proxy_headers=False,  # forwarded headers: server/auth/client.py, trusted proxies only
        )
    else:
        uvicorn.run(
            app, host=args.host, port=args.port, log_level=args.log_level, proxy_headers=False
        )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    cmd_load_demo(args)
    return cmd_serve(args)


def cmd_create_user(args: argparse.Namespace) -> int:
    from server.auth.service import create_account
    from shared.model import Role

    password = os.environ.get("ZHURNAL_PASSWORD") or getpass.getpass("Пароль: ")
    create_account(
        _open(args),
        login=args.login,
        password=password,
        role=Role(args.role),
        person_id=args.person,
    )
    print(f"Учётная запись {args.login} ({args.role}) создана.")
    return 0


def cmd_add_school(args: argparse.Namespace) -> int:
    from server.importer import add_school

    year = add_school(
        _open(args),
        school_id=args.school_id,
        name=args.name,
        district=args.district,
        first_year=args.year,
    )
    print(
        f"Школа «{args.name}» ({args.school_id}) добавлена, учебный год {year.name} ({year.id}). "
        f"Теперь импортируйте списки: import staff … --school {args.school_id}"
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from server.importer import import_staff, import_students, school_year

    conn = _open(args)
    if args.what not in ("students", "staff"):
        from server.lists.report import run_import

        return run_import(conn, args)
    year = school_year(conn, args.school)
    if args.what == "students":
        count = import_students(conn, args.file, year["id"])
        print(f"Импортировано учеников: {count}")
    else:
        count = import_staff(conn, args.file, year["id"], year["school_id"])
        print(f"Импортировано сотрудников: {count}")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    from server.storage.accounts import revoke_device

    conn = _open(args)
    conn.execute("BEGIN IMMEDIATE")
    changed = revoke_device(conn, args.device, time.time())
    conn.execute("COMMIT")
    print("Устройство отключено." if changed else "Устройство не найдено или уже отключено.")
    return 0 if changed else 1


def cmd_quarantine(args: argparse.Namespace) -> int:
    from server.storage.journals import quarantined

    rows = quarantined(_open(args))
    if not rows:
        print("Карантин пуст.")
    for row in rows:
        when = time.strftime("%d.%m.%Y %H:%M", time.localtime(row["received_at"]))
        print(f"{when}  {row['login']}  {row['journal_id']}  {row['rule']}: {row['message_ru']}")
    return 0


def cmd_import_bundle(args: argparse.Namespace) -> int:
    """Process a USB sync bundle from a laptop and write the reply bundle for it."""
    from server.auth.service import device_mac_key, principal_for_device
    from server.sync.service import SyncService
    from shared import wire

    conn = _open(args)
    bundle = wire.decode(args.bundle.read_bytes())
    if not isinstance(bundle, wire.Bundle):
        raise wire.WireError("это не файл обмена журнала")
    key = device_mac_key(conn, bundle.device_id)
    if key is None or not hmac.compare_digest(
        hmac.new(key, bundle.body, hashlib.sha256).digest(), bundle.mac
    ):
        print("Файл обмена не подписан действующим устройством: не принят.", file=sys.stderr)
        return 2
    request = wire.decode(bundle.body)
    if not isinstance(request, wire.SyncRequest):
        raise wire.WireError("в файле нет запроса синхронизации")
    principal = principal_for_device(conn, bundle.device_id)
    response = SyncService(conn, ServerConfig(database=args.db), principal).sync(request)
    body = wire.encode(response)
    reply = wire.Bundle(
        device_id=bundle.device_id,
        login=bundle.login,
        created_ms=int(time.time() * 1000),
        body=body,
        mac=hmac.new(key, body, hashlib.sha256).digest(),
    )
    args.reply.write_bytes(wire.encode(reply))
    print(f"Принято журналов: {len(response.journals)}. Ответ записан в {args.reply}")
    return 0


# ------------------------------------------------------------------ backups and upgrades


def _meter(label: str):
    """A progress line for long work, redrawn at most five times a second; the last one ends
    the line, so a log gets the step's name and its 100 %."""
    shown = {"at": 0.0}

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - shown["at"] < 0.2:
            return
        shown["at"] = now
        percent = 100 * done // max(total, 1)
        end = "\n" if done >= total else ""
        print(f"\r  {label}: {percent:3d} %", end=end, flush=True)

    return report


def cmd_backup(args: argparse.Namespace) -> int:
    from server.storage import backup

    started = time.monotonic()
    print(f"Резервная копия базы {args.db} → {args.out}")
    result = backup.backup(
        args.db,
        args.out,
        copy_progress=_meter("копирование"),
        sum_progress=_meter("контрольная сумма"),
    )
    print(
        f"Готово за {time.monotonic() - started:.1f} с: {result.path} "
        f"({result.size / 1e6:.1f} МБ), контрольная сумма SHA-256 в {result.checksum_path.name}."
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from server.storage import backup

    started = time.monotonic()
    print(f"Восстановление базы {args.db} из копии {args.backup}")
    backup.restore(
        args.db,
        args.backup,
        sum_progress=_meter("проверка контрольной суммы"),
        copy_progress=_meter("восстановление"),
    )
    print(
        f"База восстановлена за {time.monotonic() - started:.1f} с. Запустите сервер: ноутбуки, "
        "синхронизировавшиеся после этой копии, вернут недостающие записи при следующей "
        "синхронизации."
    )
    from server.storage import migrations

    conn = connect(args.db)
    _open_connections.append(conn)
    if migrations.version(conn) < migrations.LATEST:
        print(
            f"Копия в версии схемы {migrations.version(conn)}, программа ждёт "
            f"{migrations.LATEST}: перед запуском сервера выполните journal-server upgrade."
        )
    return 0


def cmd_upgrade(args: argparse.Namespace) -> int:
    from server.storage import migrations
    from server.storage.engine import engine_for

    with engine_for(args.db).exclusive("обновить базу"):
        conn = connect(args.db)
        _open_connections.append(conn)
        before = migrations.version(conn)
        applied = migrations.upgrade(
            conn, on_step=lambda m: print(f"  миграция {m.version}: {m.name}…", flush=True)
        )
    if applied:
        print(
            f"База обновлена: версия схемы {before} → {migrations.LATEST} "
            f"(миграций: {len(applied)})."
        )
    else:
        print(f"База уже в версии схемы {migrations.LATEST}: обновлять нечего.")
    return 0


# ------------------------------------------------------------------ the year-end archive


def _day(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%d.%m.%Y").date()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"дата ДД.ММ.ГГГГ, а не «{text}»") from exc


def _key_path(args: argparse.Namespace) -> Path:
    return args.key or Path(args.db).with_name("archive-key.pem")


def cmd_close_year(args: argparse.Namespace) -> int:
    from server.archive.closing import close_year

    closure = close_year(_open(args), login=args.by, year_id=args.year, on=args.date)
    print(
        f"Учебный год {closure.year_id} закрыт {closure.closed_on:%d.%m.%Y}. Журналы больше не "
        "принимают записей; исправление — только с разрешения (grant-correction)."
    )
    return 0


def cmd_grant_correction(args: argparse.Namespace) -> int:
    from server.archive.closing import grant_correction

    grant = grant_correction(
        _open(args),
        login=args.by,
        journal_id=args.journal,
        person_id=args.teacher,
        reason=args.reason,
        days=args.days,
    )
    print(
        f"Разрешение № {grant.id}: {grant.person_id} может исправить {grant.journal_id} "
        f"до {grant.expires_on:%d.%m.%Y}. Каждое исправление записывается в журнал исправлений."
    )
    return 0


def cmd_scale(args: argparse.Namespace) -> int:
    from server.directory.scales import set_scale
    from shared.model import SCALE_RU

    setting = set_scale(
        _open(args),
        login=args.by,
        scale=args.scale,
        grade=args.grade,
        subject_id=args.subject,
        modifiers=args.modifiers,
    )
    where = " ".join(
        part
        for part in (
            f"{setting.grade} класс" if setting.grade else "",
            f"предмет {setting.subject_id}" if setting.subject_id else "",
        )
        if part
    )
    extra = " (с «+» и «−»)" if setting.modifiers else ""
    print(
        f"Шкала для «{where}»: {SCALE_RU[setting.scale]}{extra}. "
        "Ноутбуки получат её при синхронизации."
    )
    return 0


def cmd_weight(args: argparse.Namespace) -> int:
    from server.directory.scales import set_weight

    row = set_weight(_open(args), login=args.by, work_kind=args.kind, weight=args.weight)
    print(f"Вес отметок за «{row.work_kind}»: {row.weight}.")
    return 0


def cmd_transfer_show(args: argparse.Namespace) -> int:
    """Read a transfer extract file from another school and show what it holds."""
    from server.archive.keys import ArchiveKeyError
    from server.web.transfer import check_signature, describe
    from shared.transfer import ExtractFileError, decode_file

    try:
        envelope, extract = decode_file(args.file.read_bytes())
    except OSError as exc:
        print(f"Файл не читается: {args.file} ({exc.strerror})", file=sys.stderr)
        return 1
    except ExtractFileError as exc:
        print(exc.message_ru, file=sys.stderr)
        return 1
    print("\n".join(describe(envelope, extract)))
    print()
    if not envelope.signature:
        print("Подписи нет: сверьте выписку с бумажной, подписанной директором.")
        return 0
    print(f"Подписана ключом с отпечатком {envelope.key_fingerprint}.")
    if args.public_key is None:
        print("Подпись не проверена: укажите открытый ключ школы (--public-key).")
        return 0
    try:
        good = check_signature(envelope, args.public_key)
    except ArchiveKeyError as exc:
        print(exc.message_ru, file=sys.stderr)
        return 1
    print("Подпись верна." if good else "ПОДПИСЬ НЕВЕРНА: файл изменён или подписан другим ключом.")
    return 0 if good else 2


def cmd_transfer_import(args: argparse.Namespace) -> int:
    from server.lists.incoming import import_extract

    added = import_extract(
        _open(args),
        args.file.read_bytes(),
        student_id=args.student,
        login=args.by,
        public_key=args.public_key,
        unsigned_ok=args.unsigned_ok,
    )
    print(f"В личное дело добавлено отметок из другой школы: {added}.")
    return 0


def cmd_archive_key(args: argparse.Namespace) -> int:
    from server.archive import keys

    path = _key_path(args)
    key = keys.generate(path) if args.action == "init" else keys.load_private(path)
    if args.action == "init":
        print(f"Ключ архива создан: {path} (храните его в тайне и в резервной копии).")
    print(f"Открытый ключ для проверки: {path.with_name(path.name + '.pub')}")
    print(f"Отпечаток: {keys.fingerprint(key.public_key())}")
    return 0


def cmd_archive_build(args: argparse.Namespace) -> int:
    from server.archive import keys
    from server.archive.package import build_package

    conn = _open(args)
    key = keys.load_private(_key_path(args))
    print("Формирую архивный пакет…")
    result = build_package(
        conn,
        out_dir=args.out,
        key=key,
        login=args.by,
        year_id=args.year,
        journal_id=args.journal,
        progress=_progress,
    )
    print(f"Пакет {result.path}: файлов {result.files}, {result.payload_bytes / 1e6:.1f} МБ.")
    if result.sequence is not None:
        print(f"№ {result.sequence} в цепочке лет; предыдущий: {result.previous[:16]}")
    print(f"SHA-256 пакета: {result.sha256}")
    return 0


def cmd_archive_prerender(args: argparse.Namespace) -> int:
    from server.archive import pdf_cache
    from server.archive.closing import year_row
    from server.errors import BadRequest
    from server.storage.directory import schools_with_years

    conn = _open(args)
    schools = schools_with_years(conn)
    if args.school is None and args.year is None and len(schools) > 1:
        raise BadRequest(f"Укажите школу (--school): в базе {', '.join(schools)}.")
    if args.school is not None and args.school not in schools:
        raise BadRequest(f"Школа «{args.school}» не найдена: в базе {', '.join(schools) or 'нет'}.")
    year_id = year_row(conn, args.year, args.school)["id"]
    made = pdf_cache.prerender(conn, year_id, class_id=args.class_id)
    print(f"Напечатано заранее журналов: {made} (остальные не менялись с прошлой печати).")
    return 0


def cmd_archive_readback(args: argparse.Namespace) -> int:
    from server.archive.readback import compare, open_package

    archived = open_package(args.package)
    try:
        result = compare(archived)
    finally:
        archived.close()
    for path in result.different:
        print(f"  ОТЛИЧАЕТСЯ: {path}")
    for path in result.missing:
        print(f"  нет в пакете (уничтожен по акту): {path}")
    for path in result.not_reproducible:
        print(f"  хранится, но не перепечатывается (журналы уничтожены по акту): {path}")
    print(
        f"Прочитан {archived.directory.year.name}: журналов {len(archived.documents)}, "
        f"совпало файлов {len(result.same)}, отличается {len(result.different)}."
    )
    return 0 if result.ok else 1


def cmd_retention(args: argparse.Namespace) -> int:
    from server.archive import keys, retention

    conn = _open(args)
    if args.action == "show":
        for c in retention.schedule(conn, args.school):
            print(f"  {c.id:<22} {c.years:>3} лет  {c.title} (с {c.counted_from}; {c.basis})")
    elif args.action == "set":
        c = retention.set_years(conn, args.category, args.years, args.by)
        print(f"Срок хранения «{c.title}»: {c.years} лет.")
    elif args.action == "due":
        items = retention.due(conn, args.archive, args.on)
        for i in items:
            print(f"  {i.due_on:%d.%m.%Y}  {i.category:<15} {i.package}: {i.title}")
        print(f"Истёк срок хранения: {len(items)}.")
    elif args.action == "act":
        _, pdf, items = retention.draft_act(
            conn, args.archive, number=args.number, login=args.by, on=args.on
        )
        args.pdf.write_bytes(pdf)
        print(f"Акт № {args.number}: дел {len(items)}. Распечатайте и подпишите: {args.pdf}")
        print(f"После подписания: journal-server retention destroy --number {args.number} …")
    else:
        log = retention.record_act(
            conn,
            args.archive,
            number=args.number,
            login=args.by,
            key=keys.load_private(_key_path(args)),
        )
        for row in log:
            print(f"  уничтожено: {row['category']} {row['item']} — {row['detail']}")
        print(f"Акт № {args.number} исполнен; удаление записано в журнал.")
    return 0


def cmd_district_export(args: argparse.Namespace) -> int:
    from server.archive import keys
    from server.reports.district_exchange import DistrictFileError, export_figures
    from server.storage.directory import schools_with_years

    conn = _open(args)
    schools = schools_with_years(conn)
    if args.school is None and len(schools) != 1:
        raise DistrictFileError(f"Укажите школу (--school): в базе {', '.join(schools) or 'нет'}.")
    school = args.school or schools[0]
    data = export_figures(conn, keys.load_private(_key_path(args)), school, args.date_from, args.to)
    args.out.write_bytes(data)
    print(
        f"Сводные показатели школы {school} (без имён) записаны в {args.out} и подписаны ключом "
        "архива школы. Передайте файл в районное управление."
    )
    return 0


def cmd_district_import(args: argparse.Namespace) -> int:
    from server.archive import keys
    from server.reports.district_exchange import import_figures

    figures = import_figures(_open(args), args.file.read_bytes(), keys.load_public(args.trust))
    print(
        f"Приняты показатели школы «{figures.school_name}» ({figures.district}): "
        f"классов-параллелей {len(figures.grades)}. Они на странице /district."
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = RussianArgumentParser(
        prog="journal-server",
        description="Сервер электронного журнала: запуск, база данных, учётные записи, импорт.",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=DEFAULT_DB,
        help=f"файл базы данных SQLite (по умолчанию {DEFAULT_DB})",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="команда")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        """A subcommand whose own --help says what it does, not only the list in the main one."""
        return sub.add_parser(name, help=text, description=text)

    command("init-db", "создать пустую базу данных").set_defaults(func=cmd_init_db)

    demo = command("load-demo", "загрузить демонстрационную школу")
    demo.add_argument("--force", action="store_true", help="загрузить, даже если школа уже есть")
    demo.set_defaults(func=cmd_load_demo)

    for name, func, text in (
        ("serve", cmd_serve, "запустить сервер"),
        ("demo", cmd_demo, "загрузить демо-школу и запустить сервер"),
    ):
        p = command(name, text)
        p.add_argument("--host", default="127.0.0.1", help="адрес (по умолчанию 127.0.0.1)")
        p.add_argument("--port", type=int, default=8000, help="порт (по умолчанию 8000)")
        p.add_argument("--log-level", default="info", help="подробность журнала uvicorn")
        p.add_argument("--workers", type=int, default=1, help="процессов сервера (по умолчанию 1)")
        p.add_argument("--force", action="store_true", help=argparse.SUPPRESS)
        p.set_defaults(func=func)

    install_cli.add_commands(command)

    user = command("create-user", "создать учётную запись (пароль спросит)")
    user.add_argument("login", help="логин")
    user.add_argument(
        "--role",
        required=True,
        choices=[
            "teacher",
            "deputy",
            "director",
            "records_officer",
            "sysadmin",
            "parent",
            "student",
            "district",
        ],
        help="роль",
    )
    user.add_argument(
        "--person",
        required=True,
        help="id сотрудника, родителя или ученика; для district — район, как он записан у школ",
    )
    user.set_defaults(func=cmd_create_user)

    imp = command("import", "импорт списков из CSV (как их ведёт секретарь)")
    imp.add_argument(
        "what",
        choices=["pupils", "parents", "employees", "class-teachers", "load", "students", "staff"],
        help="что импортировать: pupils, parents, employees, class-teachers, load (CSV или XLSX, "
        "с предпросмотром); students, staff — прежний формат CSV",
    )
    imp.add_argument("file", type=Path, help="CSV («;» или «,», UTF-8 или Windows-1251) или XLSX")
    imp.add_argument("--school", help="код школы (обязателен, если школ в базе несколько)")
    imp.add_argument("--dry-run", action="store_true", help="только показать, что изменится")
    imp.add_argument("--date", help="с какого дня (ДД.ММ.ГГГГ) прибытие, перевод и выбытие")
    imp.set_defaults(func=cmd_import)

    add = command("add-school", "добавить школу с учебным годом (рядом с уже загруженными)")
    add.add_argument("school_id", help="код школы латиницей, например ozernoe")
    add.add_argument("--name", required=True, help='название, например «МБОУ "Озёрная ООШ"»')
    add.add_argument("--district", default="", help="район (как у других школ района)")
    add.add_argument("--year", type=int, required=True, help="год начала учебного года, 2026")
    add.set_defaults(func=cmd_add_school)

    rev = command("revoke-device", "отключить устройство (потерянный ноутбук)")
    rev.add_argument("device", help="id устройства")
    rev.set_defaults(func=cmd_revoke)

    command("quarantine", "показать отклонённые обновления").set_defaults(func=cmd_quarantine)

    bak = command(
        "backup", "резервная копия базы (можно при работающем сервере) и её контрольная сумма"
    )
    bak.add_argument("out", type=Path, metavar="ФАЙЛ", help="файл копии; рядом ляжет ФАЙЛ.sha256")
    bak.set_defaults(func=cmd_backup)
    rest = command(
        "restore", "восстановить базу из резервной копии (сервер должен быть остановлен)"
    )
    rest.add_argument(
        "backup", type=Path, metavar="ФАЙЛ", help="файл копии (рядом должен быть ФАЙЛ.sha256)"
    )
    rest.set_defaults(func=cmd_restore)
    command(
        "upgrade", "обновить схему базы до этой версии программы (сервер должен быть остановлен)"
    ).set_defaults(func=cmd_upgrade)

    bun = command("import-bundle", "принять файл обмена с флешки и записать ответ")
    bun.add_argument("bundle", type=Path, help="файл обмена от ноутбука")
    bun.add_argument("--reply", type=Path, required=True, help="куда записать ответ")
    bun.set_defaults(func=cmd_import_bundle)

    close = command("close-year", "закрыть учебный год: журналы уходят в архив")
    close.add_argument("--by", required=True, help="логин того, кто закрывает (документовед, зам)")
    close.add_argument("--year", help="id учебного года (по умолчанию последний)")
    close.add_argument("--date", type=_day, help="дата закрытия ДД.ММ.ГГГГ (по умолчанию сегодня)")
    close.set_defaults(func=cmd_close_year)

    grant = command("grant-correction", "разрешить исправление журнала закрытого года")
    grant.add_argument("journal", help="id журнала (год~класс~предмет)")
    grant.add_argument("--teacher", required=True, help="id сотрудника, который исправит")
    grant.add_argument("--reason", required=True, help="основание (служебная записка и т. п.)")
    grant.add_argument("--by", required=True, help="логин заместителя директора или директора")
    grant.add_argument("--days", type=int, default=7, help="срок разрешения, дней (7)")
    grant.set_defaults(func=cmd_grant_correction)

    scale = command("scale", "задать шкалу оценивания параллели и/или предмета")
    scale.add_argument("scale", help="пятибалльная | зачёт | без-отметок")
    scale.add_argument("--grade", type=int, help="параллель 1–11")
    scale.add_argument("--subject", help="id предмета (например, orkse)")
    scale.add_argument("--modifiers", action="store_true", help="разрешить «+» и «−»")
    scale.add_argument("--by", required=True, help="логин заместителя директора или директора")
    scale.set_defaults(func=cmd_scale)

    weight = command("weight", "задать вес отметок за вид работы")
    weight.add_argument("kind", help="regular | control | practical | laboratory | independent")
    weight.add_argument("weight", type=int, help="вес 1–5")
    weight.add_argument("--by", required=True, help="логин заместителя директора или директора")
    weight.set_defaults(func=cmd_weight)

    tshow = command("transfer-show", "прочитать файл выписки при переводе из другой школы")
    tshow.add_argument("file", type=Path, help="файл выписки (JSON)")
    tshow.add_argument("--public-key", type=Path, help="открытый ключ школы-отправителя (PEM)")
    tshow.set_defaults(func=cmd_transfer_show)

    timp = command(
        "transfer-import", "принять выписку прибывшего ученика в его личное дело (с источником)"
    )
    timp.add_argument("file", type=Path, help="файл выписки (JSON) из другой школы")
    timp.add_argument("--student", required=True, help="id ученика в этой школе")
    timp.add_argument("--by", required=True, help="логин того, кто принимает выписку")
    timp.add_argument("--public-key", type=Path, help="открытый ключ школы, выдавшей выписку")
    timp.add_argument(
        "--unsigned-ok", action="store_true", help="без подписи: выписка сверена с бумажной"
    )
    timp.set_defaults(func=cmd_transfer_import)

    key_help = "файл закрытого ключа архива (по умолчанию archive-key.pem рядом с базой)"
    akey = command("archive-key", "ключ подписи архива школы: создать или показать")
    akey.add_argument("action", choices=["init", "show"], help="init — создать, show — показать")
    akey.add_argument("--key", type=Path, help=key_help)
    akey.set_defaults(func=cmd_archive_key)

    archive = command("archive", "архивный пакет: сформировать или прочитать обратно")
    asub = archive.add_subparsers(dest="action", required=True, metavar="действие")
    build = asub.add_parser(
        "build",
        help="сформировать пакет года (или одного журнала)",
        description="сформировать пакет года (или одного журнала)",
    )
    build.add_argument("--out", type=Path, required=True, help="папка архива (цепочка лет)")
    build.add_argument("--by", required=True, help="логин документоведа или администрации")
    build.add_argument("--year", help="id учебного года (по умолчанию последний)")
    build.add_argument("--journal", help="только этот журнал (сводная ведомость сразу)")
    build.add_argument("--key", type=Path, help=key_help)
    build.set_defaults(func=cmd_archive_build)
    ahead = asub.add_parser(
        "prerender",
        help="заранее напечатать PDF журналов для архива (изменённые с прошлой печати)",
        description="заранее напечатать PDF журналов для архива (изменённые с прошлой печати)",
    )
    ahead.add_argument("--school", help="код школы (обязателен, если школ в базе несколько)")
    ahead.add_argument("--year", help="id учебного года (по умолчанию последний)")
    ahead.add_argument("--class", dest="class_id", help="только журналы этого класса")
    ahead.set_defaults(func=cmd_archive_prerender)
    back = asub.add_parser(
        "readback",
        help="прочитать пакет и сверить отчёты с архивными",
        description="прочитать пакет и сверить отчёты с архивными",
    )
    back.add_argument("package", type=Path, help="папка пакета")
    back.set_defaults(func=cmd_archive_readback)

    dex = command("district-export", "сводные показатели школы в файл для района (подписанный)")
    dex.add_argument("--out", type=Path, required=True, help="куда записать файл")
    dex.add_argument("--school", help="код школы (обязателен, если школ в базе несколько)")
    dex.add_argument("--from", dest="date_from", type=_day, help="с даты ДД.ММ.ГГГГ")
    dex.add_argument("--to", type=_day, help="по дату ДД.ММ.ГГГГ")
    dex.add_argument("--key", type=Path, help=key_help)
    dex.set_defaults(func=cmd_district_export)
    dim = command(
        "district-import", "принять подписанный файл показателей школы (на сервере района)"
    )
    dim.add_argument("file", type=Path, help="файл от школы (district-export)")
    dim.add_argument("--trust", type=Path, required=True, help="открытый ключ архива школы (.pub)")
    dim.set_defaults(func=cmd_district_import)

    ret = command("retention", "сроки хранения, истёкшие дела, акт об уничтожении")
    rsub = ret.add_subparsers(dest="action", required=True, metavar="действие")
    rshow = rsub.add_parser(
        "show", help="показать сроки хранения", description="показать сроки хранения"
    )
    rshow.add_argument("--school", help="id школы (у каждой школы сервера свои сроки)")
    rshow.set_defaults(func=cmd_retention)
    rset = rsub.add_parser(
        "set",
        help="изменить срок хранения категории",
        description="изменить срок хранения категории",
    )
    rset.add_argument("category", help="категория (см. retention show)")
    rset.add_argument("years", type=int, help="лет")
    rset.add_argument("--by", required=True, help="логин документоведа или директора")
    rset.set_defaults(func=cmd_retention)
    for name, text in (
        ("due", "что подлежит уничтожению"),
        ("act", "составить акт об уничтожении (PDF)"),
        ("destroy", "исполнить подписанный акт: удалить и записать в журнал"),
    ):
        p = rsub.add_parser(name, help=text, description=text)
        p.add_argument("--archive", type=Path, required=True, help="папка архива")
        if name != "destroy":
            p.add_argument("--on", type=_day, help="на дату ДД.ММ.ГГГГ (по умолчанию сегодня)")
        if name != "due":
            p.add_argument("--number", required=True, help="номер акта")
            p.add_argument("--by", required=True, help="логин документоведа или директора")
        if name == "act":
            p.add_argument("--pdf", type=Path, required=True, help="куда записать акт (PDF)")
        if name == "destroy":
            p.add_argument("--key", type=Path, help=key_help)
        p.set_defaults(func=cmd_retention)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    install_cli.fill_defaults(args)
    from server.archive.keys import ArchiveKeyError
    from server.archive.readback import ReadbackError
    from server.errors import AppError
    from server.importer import ImportFailed
    from server.install.wheels import BundleError
    from server.reports.district_exchange import DistrictFileError
    from server.storage.engine import EngineError
    from server.storage.migrations import SchemaError
    from shared.wire import WireError

    try:
        return args.func(args)
    except ImportFailed as exc:
        print("Импорт отменён, ничего не изменено:", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return 2
    except (
        AppError,
        WireError,
        ArchiveKeyError,
        ReadbackError,
        DistrictFileError,
        BundleError,
        EngineError,
        SchemaError,
    ) as exc:
        print(f"Ошибка: {getattr(exc, 'message_ru', exc)}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"Файл не найден: {exc.filename}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        while _open_connections:
            _open_connections.pop().close()


if __name__ == "__main__":
    sys.exit(main())
