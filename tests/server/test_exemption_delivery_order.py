"""An exemption («осв.») and the marks it covers converge whatever order the server receives
them in (issue 16, docs/DESIGN.md «A retracted exemption»).

Two laptops of the maths teacher each mark pupil s-1 offline (05.10 and 02.10); the deputy's
laptop records «осв.» for s-1 with drawn dates, then retracts it, gives it other dates, or
leaves it. The pushes reach the server in a drawn order (each laptop's own in the order it
made them; the deputy's two entries in one push or two). Whatever the order, the server's
folded journal is the same, and a mark counts exactly when the exemption standing at the end
does not cover its day: a mark refused by an exemption later retracted or narrowed counts
again by itself, through the server's withdrawal of its refusal.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from server.config import ServerConfig
from server.seeding import load_journals
from server.storage import directory as directory_storage
from server.storage.db import connect, create_schema, transaction
from server.storage.journals import load_document
from shared.journal import JournalDoc
from shared.model import JournalEvent, MarkSpecial, Retracted
from tests.factories import MATH_5, YEAR, school_rows
from tests.reports_school import _Author
from tests.server.school_kit import copy_database

D = dt.date
Q1 = f"{YEAR}-q1"
LESSONS = {"L1": D(2026, 10, 5), "L2": D(2026, 10, 2)}
SPANS = [  # exemption dates: both lessons, only 05.10, only 02.10, neither
    (D(2026, 10, 1), D(2026, 10, 20)),
    (D(2026, 10, 4), D(2026, 10, 20)),
    (D(2026, 10, 1), D(2026, 10, 3)),
    (D(2026, 10, 10), D(2026, 10, 20)),
]


def exempted(day: dt.date, span: tuple[dt.date, dt.date] | None) -> bool:
    return span is not None and span[0] <= day <= span[1]


def story(span: int, change: str, new_span: int, hours: tuple[int, int, int]):
    """The entries of every device, each device's in the order it made them, and the
    exemption that stands at the end (None when it was retracted)."""
    teacher = _Author("t-math", "d-math-lessons").at(D(2026, 10, 5), 9)
    lessons = [teacher.lesson(lid, day, "Тема") for lid, day in LESSONS.items()]
    marks_at, exempt_at, change_at = hours
    laptop_a = _Author("t-math", "d-math-a").at(D(2026, 10, 5), marks_at)
    laptop_b = _Author("t-math", "d-math-b").at(D(2026, 10, 5), marks_at + 1)
    deputy = _Author("t-deputy", "d-deputy").at(D(2026, 10, 5), exempt_at)
    exemption = deputy.period(
        Q1,
        "s-1",
        0,
        special=MarkSpecial.EXEMPT,
        document="Справка ВК № 12",
        exempt_from=SPANS[span][0],
        exempt_to=SPANS[span][1],
    )
    deputy.at(D(2026, 10, 5), exempt_at + change_at)
    standing: tuple[dt.date, dt.date] | None = SPANS[span]
    deputy_entries: list[JournalEvent] = [exemption]
    if change == "retract":
        deputy_entries.append(
            Retracted(**deputy._stamp({"supersedes": (exemption.id,), "reason": "Ошибка"}))
        )
        standing = None
    elif change == "redate":
        standing = SPANS[new_span]
        deputy_entries.append(
            deputy.period(
                Q1,
                "s-1",
                0,
                special=MarkSpecial.EXEMPT,
                document="Справка ВК № 12",
                exempt_from=standing[0],
                exempt_to=standing[1],
                supersedes=(exemption.id,),
                reason="Другие даты",
            )
        )
    devices = {
        "a": [laptop_a.mark("L1", "s-1", 5)],
        "b": [laptop_b.mark("L2", "s-1", 3)],
        "deputy": deputy_entries,
    }
    return lessons, devices, standing


@st.composite
def deliveries(draw):
    """A story and the order of its pushes: a list of (device, entries) batches."""
    change = draw(st.sampled_from(["retract", "redate", "keep"]))
    lessons, devices, standing = story(
        draw(st.integers(0, len(SPANS) - 1)),
        change,
        draw(st.integers(0, len(SPANS) - 1)),
        (draw(st.integers(10, 12)), draw(st.integers(9, 13)), draw(st.integers(1, 3))),
    )
    batches = {name: [[e] for e in entries] for name, entries in devices.items()}
    if len(devices["deputy"]) == 2 and draw(st.booleans()):
        batches["deputy"] = [devices["deputy"]]  # typed and changed before the deputy synced
    slots = [name for name, pushes in batches.items() for _ in pushes]
    order = draw(st.permutations(slots))
    taken = {name: iter(pushes) for name, pushes in batches.items()}
    return lessons, [(name, next(taken[name])) for name in order], devices, standing


_template: dict[str, Path] = {}


def fresh_server(folder: Path) -> tuple:
    """The fixture school with no journal yet: a copy of one built once (a schema costs
    half a second, a copy a few milliseconds)."""
    if "db" not in _template:
        path = folder.parent / "exemption-order-template.sqlite"
        conn = connect(path)
        create_schema(conn)
        with transaction(conn):
            directory_storage.upsert(conn, school_rows(), school_id="sch")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        _template["db"] = path
    config = ServerConfig(database=folder / "school.sqlite")
    copy_database(_template["db"], config.database)
    conn = connect(config.database)
    return conn, config, directory_storage.load_full(conn)


def summary(conn) -> dict:
    """The folded journal as the server holds it: every cell's value, and what is refused."""
    state = JournalDoc(load_document(conn, MATH_5)[0]).state()
    cells = {key: (cell.value.id if cell.value else None) for key, cell in state.cells.items()}
    return {"cells": cells, "refused": sorted(state.refusals)}


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(case=deliveries())
def test_any_order_of_delivery_yields_the_same_journal(case, tmp_path_factory):
    lessons, order, devices, standing = case
    results = []
    for attempt in ("drawn", "one by one in story order"):
        conn, config, directory = fresh_server(tmp_path_factory.mktemp("order"))
        load_journals(conn, config, directory, {MATH_5: lessons})
        pushes = (
            order if attempt == "drawn" else [(n, [e]) for n, es in devices.items() for e in es]
        )
        for _device, batch in pushes:
            load_journals(conn, config, directory, {MATH_5: batch})
        results.append(summary(conn))
        rows = conn.execute("SELECT lesson_id FROM marks WHERE student_id = 's-1'").fetchall()
        counted = sorted(r[0] for r in rows)
        conn.close()
        assert counted == sorted(lid for lid, day in LESSONS.items() if not exempted(day, standing))
    assert results[0] == results[1]
