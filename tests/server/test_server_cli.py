"""journal-server's chores, run in-process: database, demo school, accounts, devices, import."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.seed_demo import build_demo_school, build_neighbour_school
from server.auth import service
from server.cli import main
from server.config import ServerConfig
from server.errors import Unauthorized
from server.storage.db import connect, transaction
from server.storage.journals import quarantine
from tests.factories import PASSWORD, YEAR

SUBCOMMANDS = {
    "init-db": "создать пустую базу данных",
    "load-demo": "загрузить демонстрационную школу",
    "serve": "запустить сервер",
    "demo": "загрузить демо-школу и запустить сервер",
    "create-user": "создать учётную запись",
    "import": "импорт списков из CSV",
    "add-school": "добавить школу с учебным годом",
    "district-export": "сводные показатели школы в файл для района",
    "district-import": "принять подписанный файл показателей школы",
    "revoke-device": "отключить устройство",
    "quarantine": "показать отклонённые обновления",
    "import-bundle": "принять файл обмена с флешки",
    "close-year": "закрыть учебный год",
    "grant-correction": "разрешить исправление журнала закрытого года",
    "archive-key": "ключ подписи архива школы",
    "archive": "архивный пакет: сформировать или прочитать обратно",
    "retention": "сроки хранения, истёкшие дела, акт об уничтожении",
    "scale": "задать шкалу оценивания параллели и/или предмета",
    "weight": "задать вес отметок за вид работы",
    "backup": "резервная копия базы",
    "restore": "восстановить базу из резервной копии",
    "upgrade": "обновить схему базы до этой версии программы",
}


@pytest.fixture
def conn(db: Path) -> Iterator[sqlite3.Connection]:
    connection = connect(db)
    yield connection
    connection.close()


def count(conn: sqlite3.Connection, table: str, where: str = "") -> int:
    return conn.execute(f"SELECT count(*) FROM {table} {where}").fetchone()[0]


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------- database and demo


def test_init_db_creates_the_database(tmp_path, capsys):
    path = tmp_path / "new" / "zhurnal.sqlite"
    assert not path.exists()

    code, out, err = run(capsys, "--db", path, "init-db")

    assert (code, err) == (0, "")
    assert out == f"База данных готова: {path}\n"
    conn = sqlite3.connect(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    finally:
        conn.close()
    assert {"years", "accounts", "devices", "journals", "events", "quarantine"} <= tables
    assert version == ("1",)
    assert run(capsys, "--db", path, "init-db")[0] == 0  # again: nothing breaks


@pytest.mark.slow  # builds the whole demo school: ~28,000 entries
def test_load_demo_loads_the_school_and_its_neighbour_once(tmp_path, capsys):
    path = tmp_path / "demo.sqlite"
    school, neighbour = build_demo_school(), build_neighbour_school()
    events = sum(len(v) for v in school.events.values())
    neighbour_events = sum(len(v) for v in neighbour.events.values())

    code, out, err = run(capsys, "--db", path, "load-demo")

    assert (code, err) == (0, "")
    assert f"{len(school.events)} журналов, {events} записей)" in out
    assert f'Озёрная ООШ": {len(neighbour.events)} журналов, {neighbour_events} записей' in out
    assert "Готово: " in out and "Логины для входа" in out
    conn = connect(path)
    try:
        loaded = {
            "years": count(conn, "years"),
            "journals": count(conn, "journals"),
            "journals with events": count(conn, "journals", "WHERE event_count > 0"),
            "events": count(conn, "events"),
            "accounts": count(conn, "accounts"),
            "quarantine": count(conn, "quarantine"),
        }
        assert loaded == {
            "years": 2,
            "journals": len(school.events) + len(neighbour.events),
            "journals with events": len(school.events) + len(neighbour.events),
            "events": events + neighbour_events,
            "accounts": len(school.accounts) + len(neighbour.accounts),
            "quarantine": 0,
        }
        # the printed parent's diary opens at once: consent is recorded for each child
        printed = [line.split()[0] for line in out.splitlines() if line.endswith(" parent")]
        assert printed
        for login in printed:
            parent = next(a.person_id for a in school.accounts if a.login == login)
            children = {r[0] for r in conn.execute(
                "SELECT student_id FROM parent_links WHERE parent_id = ?", (parent,)
            )}  # fmt: skip
            consented = {r[0] for r in conn.execute(
                "SELECT student_id FROM child_consents WHERE parent_id = ? AND status = 'given'",
                (parent,),
            )}  # fmt: skip
            assert children and consented == children
        teacher = next(a for a in school.accounts if a.role.value == "teacher")
        token = service.login(
            conn,
            ServerConfig(database=path),
            login=teacher.login,
            password=teacher.password,
            device_name="тест",
        )
        assert token.person_id == teacher.person_id
        devices = count(conn, "devices")
        updates = count(conn, "journal_updates")

        code, out, err = run(capsys, "--db", path, "load-demo")

        assert (code, err) == (0, "")
        assert "В базе уже есть школа; демонстрационная не загружена" in out
        assert "Загружаю" not in out
        assert count(conn, "events") == events + neighbour_events
        assert count(conn, "accounts") == len(school.accounts) + len(neighbour.accounts)
        assert count(conn, "journal_updates") == updates
        assert count(conn, "devices") == devices  # the login above still stands
        assert service.authenticate(conn, token.token) is not None
    finally:
        conn.close()


# ---------------------------------------------------------------------- accounts and devices


def test_create_user_with_password_from_environment(db, conn, capsys, monkeypatch):
    monkeypatch.setenv("ZHURNAL_PASSWORD", "новый-пароль-1")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail("asked for a password"))

    code, out, err = run(
        capsys, "--db", db, "create-user", "novikova", "--role", "teacher", "--person", "t-math"
    )

    assert (code, out, err) == (0, "Учётная запись novikova (teacher) создана.\n", "")
    token = service.login(
        conn,
        ServerConfig(database=db),
        login="novikova",
        password="новый-пароль-1",
        device_name="x",
    )
    assert (token.login, token.person_id) == ("novikova", "t-math")
    principal = service.authenticate(conn, token.token)
    assert principal is not None and principal.login == "novikova"
    with pytest.raises(Unauthorized):
        service.login(
            conn, ServerConfig(database=db), login="novikova", password=PASSWORD, device_name="x"
        )


def test_create_user_asks_for_the_password_without_the_environment(db, conn, capsys, monkeypatch):
    monkeypatch.delenv("ZHURNAL_PASSWORD", raising=False)
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt) or "секрет-123")

    code, _, _ = run(
        capsys, "--db", db, "create-user", "ivanov", "--role", "parent", "--person", "p-1"
    )

    assert code == 0
    assert prompts == ["Пароль: "]
    token = service.login(
        conn, ServerConfig(database=db), login="ivanov", password="секрет-123", device_name="x"
    )
    assert token.role.value == "parent"


def test_too_short_password_is_refused_in_russian(db, conn, capsys, monkeypatch):
    monkeypatch.setenv("ZHURNAL_PASSWORD", "1234567")
    before = count(conn, "accounts")

    code, out, err = run(
        capsys, "--db", db, "create-user", "short", "--role", "teacher", "--person", "t-math"
    )

    assert (code, out) == (2, "")
    assert err == "Ошибка: Пароль слишком короткий: нужно не меньше 8 символов.\n"
    assert count(conn, "accounts") == before
    assert count(conn, "accounts", "WHERE login = 'short'") == 0


def test_create_user_with_an_unknown_role_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "--db",
                str(tmp_path / "z.sqlite"),
                "create-user",
                "x",
                "--role",
                "janitor",
                "--person",
                "t-1",
            ]
        )
    assert exited.value.code == 2
    assert "--role" in capsys.readouterr().err


def test_revoke_device_cuts_the_token_off(db, conn, capsys):
    config = ServerConfig(database=db)
    token = service.login(conn, config, login="math", password=PASSWORD, device_name="ноутбук")
    other = service.login(conn, config, login="math", password=PASSWORD, device_name="второй")
    assert service.authenticate(conn, token.token) is not None

    code, out, err = run(capsys, "--db", db, "revoke-device", token.device_id)

    assert (code, out, err) == (0, "Устройство отключено.\n", "")
    assert service.authenticate(conn, token.token) is None
    assert service.device_mac_key(conn, token.device_id) is None
    assert service.authenticate(conn, other.token) is not None  # only that laptop is cut off

    code, out, _ = run(capsys, "--db", db, "revoke-device", token.device_id)
    assert (code, out) == (1, "Устройство не найдено или уже отключено.\n")
    code, out, _ = run(capsys, "--db", db, "revoke-device", "d-nosuchdevice")
    assert (code, out) == (1, "Устройство не найдено или уже отключено.\n")


# ---------------------------------------------------------------------- quarantine


def test_quarantine_is_empty_on_a_new_database(tmp_path, capsys):
    path = tmp_path / "empty.sqlite"
    code, out, err = run(capsys, "--db", path, "quarantine")
    assert (code, out, err) == (0, "Карантин пуст.\n", "")


def test_quarantine_lists_refused_updates(db, conn, capsys):
    with transaction(conn):
        quarantine(
            conn,
            now=time.time(),
            device_id="d-1",
            login="math",
            journal_id=f"{YEAR}~x~math",
            rule="author_may_write",
            message_ru="Журнал доступен только для чтения.",
            event_ids=["e1"],
            body=b"x",
        )
    code, out, _ = run(capsys, "--db", db, "quarantine")
    assert code == 0
    assert "Карантин пуст" not in out
    assert f"math  {YEAR}~x~math  author_may_write: Журнал доступен только для чтения." in out


# ---------------------------------------------------------------------- help


def test_main_help_lists_every_subcommand_in_russian(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "Сервер электронного журнала" in out
    for name, text in SUBCOMMANDS.items():
        assert name in out
        assert text in out


@pytest.mark.parametrize("name", list(SUBCOMMANDS))
def test_every_subcommand_has_russian_help(name, capsys):
    with pytest.raises(SystemExit) as exited:
        main([name, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert f"journal-server {name}" in out
    assert SUBCOMMANDS[name] in out  # says what the command does, not only the usage line


# ---------------------------------------------------------------------- import


def test_import_students_from_csv(db, conn, tmp_path, capsys):
    path = tmp_path / "students.csv"
    path.write_text(
        "Фамилия;Имя;Отчество;Дата рождения;Класс\r\n"
        "Зайцева;Ольга;Петровна;03.04.2015;5\r\n"
        "Котов;Илья;;;6\r\n",
        encoding="utf-8-sig",
    )
    before = count(conn, "students")

    code, out, err = run(capsys, "--db", db, "import", "students", path)

    assert (code, out, err) == (0, "Импортировано учеников: 2\n", "")
    assert count(conn, "students") == before + 2
    assert count(conn, "memberships", f"WHERE class_id = '{YEAR}-5'") == 5


def test_import_of_a_bad_file_changes_nothing(db, conn, tmp_path, capsys):
    path = tmp_path / "students.csv"
    path.write_text(
        "Фамилия;Имя;Отчество;Дата рождения;Класс\r\n"
        "Зайцева;Ольга;Петровна;03.04.2015;5\r\n"
        "Котов;Илья;;2015-01-01;6\r\n"
        "Лисин;Пётр;;;14\r\n",
        encoding="utf-8-sig",
    )
    before = (count(conn, "students"), count(conn, "memberships"), count(conn, "classes"))

    code, out, err = run(capsys, "--db", db, "import", "students", path)

    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "Импорт отменён, ничего не изменено:",
        "  Строка 3: дата рождения не в формате ДД.ММ.ГГГГ.",
        "  Строка 4: класс «14» не распознан.",
    ]
    assert (count(conn, "students"), count(conn, "memberships"), count(conn, "classes")) == before


def test_import_of_a_bad_staff_file_changes_nothing(db, conn, tmp_path, capsys):
    path = tmp_path / "staff.csv"
    path.write_text(
        "Фамилия,Имя,Отчество,Должность,Предметы и классы\r\n"
        'Зайцев,Пётр,Ильич,учитель,"Физика: 5, 6"\r\n'
        "Котова,Анна,,вахтёр,\r\n",
        encoding="utf-8-sig",
    )
    before = (count(conn, "staff"), count(conn, "teaching"))

    code, _, err = run(capsys, "--db", db, "import", "staff", path)

    assert code == 2
    assert err.startswith("Импорт отменён, ничего не изменено:\n")
    assert "  Строка 3: должность «вахтёр» не распознана." in err.splitlines()
    assert (count(conn, "staff"), count(conn, "teaching")) == before


def test_import_of_a_missing_file_is_reported_in_russian(db, tmp_path, capsys):
    missing = tmp_path / "нет.csv"
    code, out, err = run(capsys, "--db", db, "import", "staff", missing)
    assert (code, out) == (2, "")
    assert err == f"Файл не найден: {missing}\n"


def test_import_without_a_school_year_is_refused(tmp_path, capsys):
    path = tmp_path / "students.csv"
    path.write_text("Фамилия;Имя;Класс\nКотов;Илья;5\n", encoding="utf-8")
    code, out, err = run(capsys, "--db", tmp_path / "empty.sqlite", "import", "students", path)
    assert (code, out) == (2, "")
    assert "В базе нет учебного года" in err
