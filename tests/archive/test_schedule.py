"""Packages the server builds by itself, tested on an injected clock: a period closed for every
class, a month over when the school asked for monthly packages, a failure shown and retried."""

from __future__ import annotations

import datetime as dt
import threading
import time

from server.archive import keys, schedule
from server.archive.closing import close_year
from server.archive.package import build_package
from server.archive.readback import compare, open_package
from server.archive.verify import read_info, verify_folder
from server.storage import web as web_storage
from server.storage.db import connect, transaction
from tests.archive.conftest import CLOSED_ON, PRINTED_AT
from tests.factories import CLASS_5, CLASS_6, YEAR
from tests.reports_school import Q1

SCHOOL = "sch"
NOV_1 = dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC).timestamp()


def _close_q1(conn, *class_ids: str) -> None:
    with transaction(conn):
        for class_id in class_ids:
            web_storage.close_period(conn, class_id, Q1, "deputy", NOV_1)


def _runner(tmp_path, *, with_key: bool = True):
    key_path = tmp_path / "keys" / "archive-key.pem"
    if with_key:
        keys.generate(key_path, password=b"")

    def run(conn, now: float):
        return schedule.run_due(
            conn, folder_of=lambda s: tmp_path / "archive" / s, key_of=lambda s: key_path, now=now
        )

    return run, key_path


def test_a_period_closed_for_every_class_gets_its_package_in_the_chain(school, tmp_path):
    run, key_path = _runner(tmp_path)
    conn = connect(school.database)
    try:
        _close_q1(conn, CLASS_5)
        assert schedule.due(conn, NOV_1) == []  # class 6 still open
        _close_q1(conn, CLASS_6)
        assert [p.label for p in schedule.due(conn, NOV_1)] == [Q1]
        ((plan, outcome),) = run(conn, NOV_1)
        assert outcome == "done" and plan.label == Q1
        assert run(conn, NOV_1 + 3600) == []  # built once
        close_year(conn, login="records", year_id=YEAR, on=CLOSED_ON)
        year = build_package(
            conn,
            out_dir=tmp_path / "archive" / SCHOOL,
            key=keys.load_private(key_path),
            login="records",
            now=PRINTED_AT,
        )
        assert schedule.due(conn, NOV_1 + 365 * 86400) == []  # a closed year plans nothing
    finally:
        conn.close()
    folder = tmp_path / "archive" / SCHOOL
    period = folder / f"{SCHOOL}-{YEAR}-{Q1}"
    info = read_info(period)
    assert info["Zhurnal-Package-Kind"] == "period" and info["Zhurnal-Period"] == Q1
    assert info["Zhurnal-Built-By"] == "сервер" and info["Zhurnal-Chain-Sequence"] == "1"
    assert (period / "data" / "journals" / CLASS_5 / "math" / "journal.pdf").is_file()
    assert year.sequence == 2 and read_info(year.path)["Zhurnal-Previous-Package"] == period.name
    report = verify_folder(folder, [keys.load_public(key_path.with_name(key_path.name + ".pub"))])
    assert report.ok, report
    archived = open_package(period)
    try:
        assert compare(archived).ok
    finally:
        archived.close()


def test_monthly_packages_when_the_school_asks_for_them(school, tmp_path):
    run, _ = _runner(tmp_path)
    conn = connect(school.database)
    try:
        assert schedule.due(conn, NOV_1) == []
        schedule.set_monthly(conn, SCHOOL, True, "records")
        assert [p.label for p in schedule.due(conn, NOV_1)] == ["m2026-09", "m2026-10"]
        assert [o for _, o in run(conn, NOV_1)] == ["done", "done"]
        december = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC).timestamp()
        assert [p.label for p in schedule.due(conn, december)] == ["m2026-11"]
        schedule.set_monthly(conn, SCHOOL, False, "records")
        assert schedule.due(conn, december) == []
    finally:
        conn.close()
    names = sorted(p.name for p in (tmp_path / "archive" / SCHOOL).iterdir())
    assert names == [f"{SCHOOL}-{YEAR}-m2026-09", f"{SCHOOL}-{YEAR}-m2026-10"]


def test_a_failed_build_is_kept_for_the_records_officer_and_retried_next_day(school, tmp_path):
    run, key_path = _runner(tmp_path, with_key=False)  # the school's key was never made
    conn = connect(school.database)
    try:
        _close_q1(conn, CLASS_5, CLASS_6)
        ((_, reason),) = run(conn, NOV_1)
        assert "ключ" in reason.lower()
        (failed,) = schedule.failures(conn, SCHOOL)
        assert failed["label"] == Q1 and failed["error"] == reason
        assert run(conn, NOV_1 + 3600) == []  # not every tick
        keys.generate(key_path, password=b"")
        ((_, outcome),) = run(conn, NOV_1 + 25 * 3600)
        assert outcome == "done" and schedule.failures(conn, SCHOOL) == []
    finally:
        conn.close()


def test_the_server_thread_builds_on_its_own(school, tmp_path):
    _, key_path = _runner(tmp_path)
    conn = connect(school.database)
    try:
        _close_q1(conn, CLASS_5, CLASS_6)
    finally:
        conn.close()
    stop = threading.Event()
    thread = schedule.start(
        school.database,
        lambda s: tmp_path / "archive" / s,
        lambda s: key_path,
        clock=lambda: NOV_1,
        every=0.05,
        stop=stop,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            conn = connect(school.database)
            try:
                row = conn.execute("SELECT state FROM archive_schedule_runs").fetchone()
            finally:
                conn.close()
            if row is not None and row["state"] != schedule.RUNNING:
                break
            stop.wait(0.05)
        assert row is not None and row["state"] == "done"
    finally:
        stop.set()
        thread.join(timeout=120)
    assert (tmp_path / "archive" / SCHOOL / f"{SCHOOL}-{YEAR}-{Q1}").is_dir()


def test_two_server_processes_build_a_period_once(school, tmp_path):
    run, _ = _runner(tmp_path)
    first, second = connect(school.database), connect(school.database)
    try:
        _close_q1(first, CLASS_5, CLASS_6)
        (plan,) = schedule.due(first, NOV_1)
        assert schedule._claim(first, plan, NOV_1)  # one process starts building…
        assert run(second, NOV_1 + 60) == []  # …the other, ticking meanwhile, leaves it alone
        # a build whose process died is taken over after an hour
        assert [o for _, o in run(second, NOV_1 + 2 * 3600)] == ["done"]
    finally:
        first.close()
        second.close()
    assert len(list((tmp_path / "archive" / SCHOOL).iterdir())) == 1


def test_two_builds_at_once_take_their_places_in_the_chain_one_after_the_other(school, tmp_path):
    """A scheduled month and another built at the same moment (two threads here: the web's job
    and the scheduler; two processes behave alike): each gets its own number in the chain, and
    neither trips over the other's working folder."""
    _, key_path = _runner(tmp_path)
    out_dir = tmp_path / "archive" / SCHOOL
    errors: list[BaseException] = []

    def build(month: str) -> None:
        conn = connect(school.database)
        try:
            build_package(
                conn,
                out_dir=out_dir,
                key=keys.load_private(key_path),
                login="records",
                year_id=YEAR,
                period=month,
                now=PRINTED_AT,
                workers=1,
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=build, args=(m,)) for m in ("m2026-09", "m2026-10")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = verify_folder(out_dir, [keys.load_public(key_path.with_name(key_path.name + ".pub"))])
    assert report.problems == [] and report.ok
    numbers = sorted(read_info(p)["Zhurnal-Chain-Sequence"] for p in out_dir.iterdir())
    assert numbers == ["1", "2"]
