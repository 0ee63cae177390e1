"""The teacher's headless `journal` commands, run in-process against the in-process server.

`journal` builds its own Session from --home; the tests swap `client_tui.cli.Session` for one
that talks to the litestar TestClient, so nothing else in the command changes.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import client_tui.cli as cli
from client_tui.services.api import TemporaryFailure
from client_tui.services.session import Session
from server.config import ServerConfig
from shared.model import AttendanceCode
from tests.conftest import BASE_URL
from tests.factories import (
    MATH_5,
    MATH_6,
    PASSWORD,
    RUSSIAN_5,
    change_password_on_server,
    devices,
)

NOT_LOGGED_IN = "Сначала войдите: journal login --server АДРЕС --login ЛОГИН\n"
Journal = Callable[..., tuple[int, str, str]]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "laptop"


@pytest.fixture
def offline(home, capsys, monkeypatch) -> Journal:
    """journal(*argv) -> (exit code, stdout, stderr), on a laptop with no server at all."""
    monkeypatch.setenv("ZHURNAL_PASSWORD", PASSWORD)

    def run(*argv: object) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main(["--home", str(home), *(str(a) for a in argv)])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return run


@pytest.fixture
def journal(client, offline, monkeypatch) -> Journal:
    """The same, the laptop's HTTP going to the in-process server's TestClient.

    `client` comes before `offline` (and so before capsys): the app's logging handler keeps
    the stderr it finds at start-up, which must not be the one capsys swaps in and out.
    """
    monkeypatch.setattr(cli, "Session", lambda home, profile: Session(home, profile, http=client))
    return offline


@pytest.fixture
def logged_in(journal: Journal) -> Journal:
    code, _, err = journal("login", "--server", BASE_URL, "--login", "math")
    assert (code, err) == (0, "")
    return journal


def pending(out: str) -> int:
    match = re.search(r"Ждут отправки: (\d+)", out)
    assert match, out
    return int(match.group(1))


def server_events(config: ServerConfig) -> list[sqlite3.Row]:
    conn = sqlite3.connect(config.database)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM events ORDER BY hlc").fetchall()
    finally:
        conn.close()


def record_lesson_with_a_mark(journal: Journal) -> None:
    assert journal(
        "lesson", "5:Математика", "--date", "05.10.2026", "--topic", "Дроби", "--homework", "§12"
    )[:2] == (0, f"Сохранено: урок 05.10.2026 #1 [{lesson_id(journal, '2026-10-05')}]\n")
    code, out, _ = journal("attend", "5:Математика", "--lesson", "2026-10-05", "--all-present")
    assert (code, out) == (
        0,
        "Сохранено: посещаемость 05.10, отмечены присутствующими: 4; "
        "уже отмеченных не трогали: 0\n",
    )
    code, out, _ = journal(
        "mark", "5:математика", "--lesson", "2026-10-05", "--student", "1", "--value", "5"
    )
    assert code == 0
    assert out.startswith("Сохранено: Алексеев А. — 5 за 05.10 [")


def lesson_id(journal: Journal, date: str) -> str:
    code, out, _ = journal("show", MATH_5, "--month", date[:7])
    assert code == 0
    ids = re.findall(rf"{date[8:]}\.{date[5:7]} #\d .*\[(\w+)\]", out)
    assert len(ids) == 1, out
    return ids[0]


# ---------------------------------------------------------------------- login and journals


def test_login_registers_the_laptop(journal, home, server_config):
    code, out, err = journal("login", "--server", BASE_URL, "--login", "math")

    assert (code, err) == (0, "")
    assert out == "Вход выполнен. Устройство зарегистрировано; журналов: 3.\n"
    session = Session(home, "default", password=PASSWORD)
    try:
        assert session.logged_in
        assert session.store.get("login") == "math"
        device_id = session.store.get("device_id")
    finally:
        session.close()
    conn = sqlite3.connect(server_config.database)
    try:
        devices = conn.execute("SELECT login, revoked_at FROM devices WHERE id = ?", (device_id,))
        assert devices.fetchall() == [("math", None)]
    finally:
        conn.close()


def test_login_again_after_a_password_change_keeps_the_device_and_every_entry(
    logged_in, home, server_config, monkeypatch
):
    """The token was revoked by the change; the old password still opens the store, the new
    one logs in as the same device, the waiting entries go, and the store takes the new one."""
    record_lesson_with_a_mark(logged_in)
    _, before, _ = logged_in("status")
    assert pending(before) > 0
    ((device, _),) = devices(server_config.database)
    change_password_on_server(server_config.database, "math", "новый-пароль-2")
    code, _, err = logged_in("sync")
    assert code != 0 and "Traceback" not in err  # not sent: log in again

    monkeypatch.setenv("ZHURNAL_PASSWORD", "новый-пароль-2")
    monkeypatch.setenv("ZHURNAL_OLD_PASSWORD", PASSWORD)
    code, _, err = logged_in("login", "--server", BASE_URL, "--login", "math")
    assert (code, err) == (0, ""), err
    assert devices(server_config.database) == [(device, None)]
    monkeypatch.delenv("ZHURNAL_OLD_PASSWORD")
    _, after, _ = logged_in("status")
    assert pending(after) == 0  # the first sync of the login sent them
    monkeypatch.setenv("ZHURNAL_PASSWORD", PASSWORD)
    code, _, err = logged_in("status")
    assert code == 2 and err.startswith("Пароль не подходит")


def test_login_with_a_wrong_password_is_refused_in_russian(journal, home, monkeypatch):
    monkeypatch.setenv("ZHURNAL_PASSWORD", "не-тот-пароль")
    code, out, err = journal("login", "--server", BASE_URL, "--login", "math")
    assert code == 2  # a refusal, not a missing link: retrying will not help
    assert out == ""
    assert err == "Ошибка: Неверный логин или пароль.\n"
    assert journal("status")[2] == NOT_LOGGED_IN


def test_journals_lists_writable_and_read_only(logged_in):
    code, out, err = logged_in("journals")

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 3
    writable = [line for line in lines if "[запись]" in line]
    read_only = [line for line in lines if "[только чтение]" in line]
    assert sorted(line.split()[-1] for line in writable) == sorted([MATH_5, MATH_6])
    assert [line.split()[-1] for line in read_only] == [RUSSIAN_5]
    assert read_only[0].startswith("5:Русский язык")
    assert lines[-1] == read_only[0]  # writable journals come first


def test_read_only_journal_refuses_a_lesson(logged_in):
    code, out, err = logged_in("lesson", "5:Русский язык", "--date", "2026-10-05")
    assert (code, out) == (2, "")
    assert err == (
        "Не сохранено: Журнал доступен только для чтения: "
        "вы не ведёте этот предмет в этом классе.\n"
    )


# ---------------------------------------------------------------------- recording


def test_lesson_attendance_mark_then_show(logged_in):
    record_lesson_with_a_mark(logged_in)

    code, out, err = logged_in("show", "5:Математика", "--month", "2026-10")

    assert (code, err) == (0, "")
    rows = {line.split()[0]: line for line in out.splitlines() if re.match(r"\s+\d ", line)}
    assert set(rows) == {"1", "2", "3", "4"}
    assert "Алексеев А." in rows["1"]
    assert rows["1"].split()[-1] == "5"
    assert all(rows[n].split()[-1] != "5" for n in "234")
    assert "05.10 #1 Дроби  ДЗ: §12" in out
    assert out.splitlines()[0] == f"{MATH_5}  месяц 2026-10"


def test_mark_for_an_absent_pupil_is_not_saved(logged_in):
    assert logged_in("lesson", "5:Математика", "--date", "2026-10-06")[0] == 0
    code, out, _ = logged_in(
        "attend", "5:Математика", "--lesson", "2026-10-06", "--code", "н", "--students", "2"
    )
    assert (code, out) == (0, "Сохранено: посещаемость 06.10, учеников: 1\n")
    before = pending(logged_in("status")[1])

    code, out, err = logged_in(
        "mark", "5:Математика", "--lesson", "2026-10-06", "--student", "Борисова", "--value", "4"
    )

    assert (code, out) == (2, "")
    assert err == (
        "Не сохранено: Отметка отсутствующему не ставится "
        "(кроме болезни с медицинским документом, «б»).\n"
    )
    assert pending(logged_in("status")[1]) == before == 2
    row = next(
        line
        for line in logged_in("show", MATH_5, "--month", "2026-10")[1].splitlines()
        if "Борисова" in line
    )
    assert row.split()[-1] == "н"


def test_mark_out_of_scale_is_not_saved(logged_in):
    assert logged_in("lesson", "5:Математика", "--date", "2026-10-06")[0] == 0
    code, out, err = logged_in(
        "mark", "5:Математика", "--lesson", "2026-10-06", "--student", "1", "--value", "6"
    )
    assert (code, out) == (2, "")
    assert err.startswith("Не сохранено: ")
    assert pending(logged_in("status")[1]) == 1


# ---------------------------------------------------------------------- sync and status


def test_status_sync_and_rejected(logged_in, server_config):
    code, out, _ = logged_in("status")
    assert code == 0
    assert pending(out) == 0
    assert "пользователь: math" in out and f"сервер: {BASE_URL}" in out
    assert "Последняя успешная синхронизация: никогда" not in out  # login brought the journals

    record_lesson_with_a_mark(logged_in)
    code, out, _ = logged_in("status")
    assert pending(out) == 6  # the lesson, four attendance entries, the mark
    code, out, _ = logged_in("pending")
    assert out.count("[запись]") == 0 and out.count(MATH_5) == 6

    code, out, err = logged_in("sync")

    assert (code, err) == (0, "")
    assert out.startswith("Синхронизация завершена: ")
    assert "принято 6, отклонено 0." in out
    code, out, _ = logged_in("status")
    assert pending(out) == 0
    assert "отклонено: 0" in out
    assert logged_in("rejected")[:2] == (0, "Отклонённых записей нет.\n")
    assert logged_in("pending")[:2] == (0, "Все записи отправлены.\n")
    assert logged_in("conflicts")[:2] == (0, "Конфликтов нет.\n")

    events = server_events(server_config)
    assert len(events) == 6
    assert {e["journal_id"] for e in events} == {MATH_5}
    assert logged_in("sync")[0] == 0  # again: nothing new, nothing doubled
    assert len(server_events(server_config)) == 6


def test_sync_with_the_server_unreachable_keeps_entries(logged_in, home, monkeypatch):
    record_lesson_with_a_mark(logged_in)
    session = Session(home, "default", password=PASSWORD)
    try:
        with session.store.transaction():
            session.store.put("server_url", "http://127.0.0.1:9")  # nothing listens there
    finally:
        session.close()
    monkeypatch.setattr(cli, "Session", Session)  # a real httpx client from here on

    code, out, err = logged_in("sync")

    assert (code, out) == (3, "")
    assert err.startswith("Нет синхронизации. Нет связи с сервером.")
    assert err.rstrip().endswith("Записи сохранены на этом компьютере.")
    code, out, _ = logged_in("status")
    assert pending(out) == 6
    assert "Последняя ошибка: Нет связи с сервером" in out
    assert logged_in("rejected")[1] == "Отклонённых записей нет.\n"


# ---------------------------------------------------------------------- mistakes


@pytest.mark.parametrize(
    "argv",
    [
        ["journals"],
        ["status"],
        ["sync"],
        ["show", "5:Математика"],
        ["mark", "5:Математика", "--lesson", "2026-10-05", "--student", "1", "--value", "5"],
        ["bundle", "export", "out.bin"],
    ],
    ids=lambda argv: argv[0] + ("-" + argv[1] if argv[0] == "bundle" else ""),
)
def test_commands_before_login_ask_to_log_in(offline, argv):
    assert offline(*argv) == (2, "", NOT_LOGGED_IN)


def test_unknown_journal_is_a_russian_error(logged_in):
    code, out, err = logged_in("show", "9:Химия")
    assert (code, out) == (2, "")
    assert err == "Ошибка: Журнал «9:Химия» не найден. Список: journal journals\n"
    code, _, err = logged_in(
        "mark", "5:Химия", "--lesson", "2026-10-05", "--student", "1", "--value", "5"
    )
    assert code == 2
    assert err == "Ошибка: Журнал «5:Химия» не найден. Список: journal journals\n"


def test_unknown_lesson_student_and_date_are_russian_errors(logged_in):
    assert logged_in("lesson", "5:Математика", "--date", "2026-10-05")[0] == 0
    assert logged_in(
        "mark", "5:Математика", "--lesson", "2026-10-07", "--student", "1", "--value", "5"
    )[1:] == ("", "Ошибка: Урок «2026-10-07» не найден.\n")
    assert logged_in(
        "mark", "5:Математика", "--lesson", "2026-10-05", "--student", "Иванов", "--value", "5"
    )[1:] == ("", "Ошибка: Ученик «Иванов» не найден (номер по списку, фамилия или id).\n")
    code, _, err = logged_in("lesson", "5:Математика", "--date", "вчера")
    assert code == 2
    assert err == "Ошибка: Дата «вчера» не распознана: пишите ДД.ММ.ГГГГ или ГГГГ-ММ-ДД.\n"
    assert pending(logged_in("status")[1]) == 1


def test_journal_called_from_another_program_leaves_its_sigpipe_alone(tmp_path):
    """SIG_DFL for SIGPIPE is process-wide: set by an in-process call, it let a later test's
    write to a killed server's socket kill the whole test run (exit 141)."""
    before = signal.getsignal(signal.SIGPIPE)
    assert before != signal.SIG_DFL
    cli.main(["--home", str(tmp_path), "journals"])
    assert signal.getsignal(signal.SIGPIPE) == before


def test_journal_without_a_command_outside_a_terminal_prints_help(capsys, tmp_path):
    from client_tui.cli import main

    assert main(["--home", str(tmp_path)]) == 0  # pytest's stdin is not a terminal
    out = capsys.readouterr().out
    assert "tui" in out and "открыть журнал в окне терминала" in out


# ---------------------------------------------------------------------- achievements


def test_achievement_add_list_sync_and_remove(logged_in, tmp_path, server_config):
    scan = tmp_path / "грамота.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 500)
    code, out, err = logged_in(
        "achievement", "add", "5", "--student", "2", "--kind", "спорт", "--title",
        "Кросс нации", "--level", "муниципальный", "--result", "призёр", "--date",
        "20.09.2026", "--organiser", "ДЮСШ", "--external", "--consent", "--file", scan,
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.startswith("Сохранено в портфолио 5: Борисова В. — «Кросс нации», документ ")
    achievement = re.search(r"\[(\w+)\]", out).group(1)
    code, out, _ = logged_in("achievement", "list")
    assert code == 0 and out == (
        "20.09.2026 5 Борисова В.: Спортивное соревнование «Кросс нации» "
        "(муниципальный, ДЮСШ) — призёр, другая организация (с согласия семьи); "
        "документ: грамота.png — ждёт отправки; запись: ждёт синхронизации "
        f"[{achievement}]\n"
    )
    code, out, _ = logged_in("sync")
    assert code == 0 and "Документов отправлено: 1." in out
    code, out, _ = logged_in("achievement", "list", "5")
    assert "документ: грамота.png — на сервере; запись: принято" in out
    code, out, _ = logged_in("achievement", "remove", "5", achievement, "--reason", "дубль")
    assert (code, out) == (0, f"Достижение убрано из портфолио [{achievement}]\n")
    assert logged_in("sync")[0] == 0
    assert logged_in("achievement", "list")[1] == "Достижений нет.\n"
    events = [e["kind"] for e in server_events(server_config)]
    assert events == ["achievement", "retraction"]


def test_achievement_refusals_are_in_russian_and_store_nothing(logged_in):
    code, _, err = logged_in(
        "achievement", "add", "5", "--student", "1", "--title", "Турнир", "--external"
    )
    assert code == 2 and err.startswith("Не сохранено: Достижение, полученное в другой")
    code, _, err = logged_in(
        "achievement", "add", "5", "--student", "1", "--title", "Турнир", "--result", "бал"
    )
    assert code == 2 and "Результат «бал» не распознан" in err
    code, _, err = logged_in("achievement", "add", "7Б", "--student", "1", "--title", "Турнир")
    assert code == 2 and "Класс «7Б» не найден" in err
    assert logged_in("achievement", "list")[1] == "Достижений нет.\n"
    assert "Ждут отправки: 0" in logged_in("status")[1]


def test_all_present_keeps_an_absence_like_the_apps_equals_key(logged_in, home):
    """README: `attend … --lesson 20.11.2026 --code н`, then `--all-present`: the absence stays."""
    assert logged_in("lesson", "5:Математика", "--date", "05.10.2026", "--topic", "Дроби")[0] == 0
    code, _, err = logged_in(
        "attend", "5:Математика", "--lesson", "05.10.2026", "--code", "н", "--students", "2"
    )
    assert (code, err) == (0, "")
    code, out, _ = logged_in("attend", "5:Математика", "--lesson", "05.10.2026", "--all-present")
    assert code == 0
    assert "отмечены присутствующими: 3; уже отмеченных не трогали: 1" in out
    session = Session(home, "default", password=PASSWORD)
    try:
        state = session.book.state(MATH_5)
        (lesson,) = state.lessons()
        codes = [state.attendance(lesson.lesson_id, f"s-{i}") for i in range(1, 5)]
    finally:
        session.close()
    present, absent = AttendanceCode.PRESENT, AttendanceCode.ABSENT
    assert codes == [present, absent, present, present]


# ---------------------------------------------------------------------- unforeseen faults

FAULT = "Внутренняя ошибка программы."


def log_text(home: Path) -> str:
    return (home / "default" / "journal.log").read_text(encoding="utf-8")


def test_a_damaged_store_gives_a_russian_message_and_its_path(offline, home):
    """Neither a plain store of an earlier release nor an encrypted one with its key
    parameters beside it: no password is asked, the file is left as it is."""
    (home / "default").mkdir(parents=True)
    damaged = b"not a database, a scratched disk" * 200
    (home / "default" / "store.sqlite").write_bytes(damaged)
    code, out, err = offline("status")
    assert code == 2 and out == ""
    assert err.startswith("Файл журнала не распознан") and str(home / "default") in err
    assert (home / "default" / "store.sqlite").read_bytes() == damaged


class Panic(BaseException):
    """What pycrdt raises from Rust: not an Exception."""


@pytest.mark.parametrize("fault", [RuntimeError("ошибка в коде"), KeyError("x"), Panic("rust")])
def test_a_bug_in_a_command_keeps_saved_entries_and_logs_the_traceback(
    logged_in, home, monkeypatch, fault
):
    record_lesson_with_a_mark(logged_in)
    _, before, _ = logged_in("status")

    def broken(session, args):
        raise fault

    monkeypatch.setattr(cli, "cmd_journals", broken)
    code, out, err = logged_in("journals")
    assert code == 1 and out == ""
    assert err.startswith(FAULT) and str(home / "default" / "journal.log") in err
    assert type(fault).__name__ in log_text(home) and "Traceback" in log_text(home)
    _, after, _ = logged_in("status")  # the store was closed properly and still opens
    assert pending(after) == pending(before) > 0


def test_no_traceback_from_the_installed_command(tmp_path):
    """The real entry point in a child process, on a damaged store: stderr is one sentence."""
    home = tmp_path / "laptop"
    (home / "default").mkdir(parents=True)
    (home / "default" / "store.sqlite").write_bytes(b"\x00garbage" * 500)
    done = subprocess.run(
        [sys.executable, "-m", "client_tui.cli", "--home", str(home), "journals"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("Файл журнала не распознан")


# ---------------------------------------------------------------------- help in Russian


def command_paths(parser) -> Iterator[list[str]]:
    """[], ["login"], …, ["achievement", "add"], …: every parser `journal` has."""
    yield []
    for action in parser._actions:
        if isinstance(action.choices, dict):
            for name, child in action.choices.items():
                yield from ([name, *rest] for rest in command_paths(child))


def names_in(parser) -> set[str]:
    """Option names, command names and the choices a user types: Latin by design."""
    names = {"journal"}
    for action in parser._actions:
        names.update(action.option_strings)
        names.update(action.choices or ())
        if isinstance(action.choices, dict):
            for child in action.choices.values():
                names |= names_in(child)
    return names


# Names a teacher reads as written: keys, file formats, the data-folder variable.
PROPER_NAMES = {"Ctrl", "C", "PDF", "PNG", "JPEG", "ZHURNAL_HOME"}


def latin_words(text: str, allowed: set[str]) -> set[str]:
    text = re.sub(r"https?://\S+", "", text)  # an example address is typed as it is
    allowed = allowed | PROPER_NAMES
    tokens = re.findall(r"-{0,2}[A-Za-z][\w-]*", text)
    return {t for t in tokens if t not in allowed and t.strip("-") not in allowed}


def test_help_is_russian_for_every_command(capsys):
    parser = cli.build_parser()
    allowed = names_in(parser)
    paths = list(command_paths(parser))
    assert ["achievement", "add"] in paths and ["sync"] in paths
    for path in paths:
        with pytest.raises(SystemExit) as stop:
            cli.main([*path, "--help"])
        assert stop.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("Использование: journal")
        assert "параметры:" in out
        assert latin_words(out, allowed) == set(), (path, out)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["login"], "не хватает обязательных: --server, --login"),
        (["status", "--colour"], "непонятные аргументы: --colour"),
        (
            ["bundle", "send", "x"],
            "аргумент ДЕЙСТВИЕ: неизвестный выбор 'send' (можно: 'export', 'import')",
        ),
        (["lesson", "5:Математика", "--slot", "два"], "аргумент --slot: не подходит как целое"),
        (["sync", "--interval"], "аргумент --interval: нужно одно значение"),
        (["нет-такой"], "аргумент команда: неизвестный выбор 'нет-такой'"),
    ],
)
def test_argument_errors_are_russian(capsys, argv, said):
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Использование: journal")
    assert f"journal {argv[0]}: ошибка: {said}" in err or f"journal: ошибка: {said}" in err, err
    assert latin_words(err, names_in(cli.build_parser()) | set(argv)) == set(), err


# ---------------------------------------------------------------------- sync --watch


class Stop(KeyboardInterrupt):
    """Ctrl+C, pressed by the test's sleep once it has seen enough rounds."""


def watch(logged_in, monkeypatch, client, *, fails: int, rounds: int) -> tuple[list, str, str]:
    """Run `journal sync --watch` over a link that is down for the first `fails` rounds;
    returns the waits asked for, stdout and stderr. Ctrl+C comes at wait number `rounds`."""
    calls: list[int] = []
    waits: list[float] = []

    def make(home, profile):
        def link(body: bytes) -> bytes:
            calls.append(1)
            if len(calls) <= fails:
                raise TemporaryFailure("Нет связи с сервером.")
            return session.api().sync(body)

        session = Session(home, profile, http=client, transport=link)
        return session

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == rounds:
            raise Stop

    monkeypatch.setattr(cli, "Session", make)
    monkeypatch.setattr(cli, "sleep", sleep)
    code, out, err = logged_in("sync", "--watch", "--interval", "45")
    assert code == 130
    return waits, out, err


def test_sync_watch_backs_off_while_the_link_is_down_then_sends(logged_in, monkeypatch, client):
    record_lesson_with_a_mark(logged_in)
    waits, out, err = watch(logged_in, monkeypatch, client, fails=3, rounds=5)
    # base 2 s doubling, jittered between half and all: 1–2, 2–4, 4–8; then the interval
    assert [1 <= waits[0] <= 2, 2 <= waits[1] <= 4, 4 <= waits[2] <= 8] == [True] * 3
    assert waits[3:] == [45, 45]
    assert err.count("Нет синхронизации. Нет связи с сервером.") == 3
    assert err.count("Следующая попытка через") == 3
    assert out.count("Синхронизация завершена") == 2
    assert pending(logged_in("status")[1]) == 0


def test_sync_watch_waits_are_capped_through_a_long_outage(logged_in, monkeypatch, client):
    waits, _, err = watch(logged_in, monkeypatch, client, fails=40, rounds=40)
    assert max(waits) <= 600 and min(waits[-10:]) >= 300  # capped, and not hammering
    assert err.count("Записи сохранены на этом компьютере.") == 40


# ---------------------------------------------------------------------- server address


def device_rows(config: ServerConfig) -> list[tuple]:
    conn = sqlite3.connect(config.database)
    try:
        return conn.execute("SELECT id, login, revoked_at FROM devices ORDER BY id").fetchall()
    finally:
        conn.close()


def test_server_address_changes_without_a_new_device(logged_in, home, server_config):
    record_lesson_with_a_mark(logged_in)
    devices = device_rows(server_config)
    new = "http://192.0.2.7:8000"  # the in-process server answers whatever the host

    code, out, err = logged_in("server-address", new + "/")

    assert (code, err) == (0, "")
    assert out.startswith(f"Адрес сервера изменён: {new}. Устройство и записи прежние")
    status = logged_in("status")[1]
    assert f"сервер: {new}" in status and pending(status) == 6
    assert logged_in("sync")[0] == 0
    assert pending(logged_in("status")[1]) == 0
    assert device_rows(server_config) == devices  # no registration, nothing revoked
    assert len(server_events(server_config)) >= 6


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("10.0.0.5:8000", "должен начинаться с http:// или https://"),
        ("ftp://10.0.0.5", "должен начинаться с http:// или https://"),
        ("http://", "должен начинаться с http:// или https://"),
        ("http://10.0.0.5:70000", "Порт в адресе сервера «http://10.0.0.5:70000» — от 1 до 65535"),
        ("http://школа 5", "пробел"),
        ("http://admin:secret@10.0.0.5", "лишнее (имя, пароль, «?» или «#»)"),
        ("http://10.0.0.5/?next=evil", "лишнее"),
        ("http://[::1", "не распознан"),
    ],
)
def test_a_malformed_server_address_is_refused_in_russian(logged_in, url, said):
    before = logged_in("status")[1]
    code, out, err = logged_in("server-address", url)
    assert (code, out) == (2, "")
    assert err.startswith("Ошибка: ") and said in err and "например http://10.0.0.5:8000" in err
    assert logged_in("status")[1] == before  # the old address stays


def test_server_address_before_login_asks_to_log_in(offline):
    assert offline("server-address", "http://10.0.0.5:8000") == (2, "", NOT_LOGGED_IN)


# ---------------------------------------------------------------------- period marks (issue 16)


def period_mark(journal: Journal, *options: str) -> tuple[int, str, str]:
    return journal(
        "period-mark", "5:Математика", "--period", "1 четверть", "--student", "2", *options
    )


def test_period_mark_exemption_dates_as_the_readme_writes_them_or_iso(logged_in, capsys):
    """004 §1.4: «осв.» with its document and dates; 01.10.2026 and 2026-10-20 both read."""
    record_lesson_with_a_mark(logged_in)
    code, out, err = period_mark(
        logged_in, "--value", "осв.", "--document", "Справка ВК № 12",
        "--from", "01.10.2026", "--to", "2026-10-20",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.startswith("Сохранено: Борисова В. — осв., 1 четверть [")
    with pytest.raises(SystemExit) as refused:  # argparse's own refusal, in Russian
        period_mark(logged_in, "--value", "осв.", "--document", "Справка", "--from", "1/10/2026")
    assert refused.value.code == 2
    assert "«1/10/2026»: дата в виде ДД.ММ.ГГГГ" in capsys.readouterr().err


def test_period_mark_na_reason_by_its_russian_name(logged_in):
    record_lesson_with_a_mark(logged_in)
    code, out, err = period_mark(logged_in, "--value", "н/а", "--na-reason", "Нет  отметок")
    assert (code, err) == (0, "")
    assert "н/а" in out
    code, out, err = period_mark(logged_in, "--value", "н/а", "--na-reason", "прогулы")
    assert code == 2 and "пропуски или «нет отметок»" in err


def test_period_mark_options_of_another_value_are_refused_not_dropped(logged_in, home):
    """«--document» with a number, «--na-reason» with «осв.»: the teacher meant something;
    a clear Russian error and nothing stored, rather than a mark without what was typed."""
    record_lesson_with_a_mark(logged_in)
    before = pending(logged_in("status")[1])
    code, _, err = period_mark(
        logged_in, "--value", "4", "--document", "Справка", "--to", "20.10.2026"
    )
    assert code == 2 and "--document, --to — только для «осв.»" in err
    code, _, err = period_mark(
        logged_in, "--value", "осв.", "--document", "Справка", "--from", "01.10.2026",
        "--to", "20.10.2026", "--na-reason", "пропуски",
    )  # fmt: skip
    assert code == 2 and "--na-reason — только для «н/а»" in err
    code, _, err = period_mark(logged_in, "--value", "осв.", "--document", "Справка")
    assert code != 0 and "укажите документ и даты" in err  # the rule's own words (004 §1.4)
    assert pending(logged_in("status")[1]) == before
