"""Journal documents and their consolidated rows: the few functions that own that SQL."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable

from server.storage import consolidated
from server.storage.web import SCHOOL_PEOPLE
from shared.fold import CellKey, JournalState
from shared.journal import merge_updates
from shared.model import (
    AttendanceMarked,
    JournalEvent,
    JournalInfo,
    LessonRecorded,
    MarkGiven,
    MarkSpecial,
    PeriodMarkGiven,
    Retracted,
)


def ensure_journal(conn: sqlite3.Connection, info: JournalInfo, now: float) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO journals (id, year_id, class_id, subject_id, state_vector, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        (info.id, info.year_id, info.class_id, info.subject_id, b"\x00", now),
    )


def load_document(conn: sqlite3.Connection, journal_id: str) -> tuple[bytes, int]:
    """The journal's document as one update, and how many log rows it was made of."""
    rows = conn.execute(
        "SELECT body FROM journal_updates WHERE journal_id = ? ORDER BY seq", (journal_id,)
    ).fetchall()
    return merge_updates(r["body"] for r in rows), len(rows)


def update_count(conn: sqlite3.Connection, journal_id: str) -> int:
    """How many update-log rows the journal's document is made of (squashed past a limit)."""
    return conn.execute(
        "SELECT count(*) FROM journal_updates WHERE journal_id = ?", (journal_id,)
    ).fetchone()[0]


def document_version(conn: sqlite3.Connection, journal_id: str) -> tuple[int, bytes]:
    """What identifies the stored document: its last update-log row and its state vector."""
    row = conn.execute(
        "SELECT (SELECT max(seq) FROM journal_updates WHERE journal_id = ?) AS seq, "
        "(SELECT state_vector FROM journals WHERE id = ?) AS sv",
        (journal_id, journal_id),
    ).fetchone()
    return (row["seq"] or 0, bytes(row["sv"] or b""))


def event_count(conn: sqlite3.Connection, journal_id: str) -> int:
    """How many of a journal's events the server holds."""
    (count,) = conn.execute(
        "SELECT count(*) FROM events WHERE journal_id = ?", (journal_id,)
    ).fetchone()
    return count


def received_times(conn: sqlite3.Connection, journal_id: str) -> dict[str, float]:
    """When the server received each of a journal's events (epoch seconds), by event id."""
    return dict(
        conn.execute(
            "SELECT id, received_at FROM events WHERE journal_id = ?", (journal_id,)
        ).fetchall()
    )


def state_vector(conn: sqlite3.Connection, journal_id: str) -> bytes | None:
    row = conn.execute("SELECT state_vector FROM journals WHERE id = ?", (journal_id,)).fetchone()
    return bytes(row["state_vector"]) if row else None


def state_vectors(conn: sqlite3.Connection, journal_ids: list[str]) -> dict[str, bytes]:
    """The stored state vectors of those of `journal_ids` the server has."""
    found: dict[str, bytes] = {}
    for start in range(0, len(journal_ids), 500):
        chunk = journal_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            f"SELECT id, state_vector FROM journals WHERE id IN ({marks})", chunk
        ):
            found[row["id"]] = bytes(row["state_vector"])
    return found


def append_update(
    conn: sqlite3.Connection, journal_id: str, body: bytes, device_id: str | None, now: float
) -> None:
    conn.execute(
        "INSERT INTO journal_updates (journal_id, body, device_id, received_at) "
        "VALUES (?, ?, ?, ?)",
        (journal_id, body, device_id, now),
    )


def squash(conn: sqlite3.Connection, journal_id: str, snapshot: bytes, now: float) -> None:
    """Replace the update log with one snapshot update: cheap writes, bounded reads."""
    conn.execute("DELETE FROM journal_updates WHERE journal_id = ?", (journal_id,))
    append_update(conn, journal_id, snapshot, None, now)


def set_state(
    conn: sqlite3.Connection, journal_id: str, sv: bytes, event_count: int, now: float
) -> None:
    conn.execute(
        "UPDATE journals SET state_vector = ?, event_count = ?, updated_at = ? WHERE id = ?",
        (sv, event_count, now, journal_id),
    )


def bound_device(conn: sqlite3.Connection, client_id: int) -> str | None:
    row = conn.execute(
        "SELECT device_id FROM client_ids WHERE client_id = ?", (client_id,)
    ).fetchone()
    return row["device_id"] if row else None


def bind_client(conn: sqlite3.Connection, client_id: int, device_id: str, now: float) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO client_ids (client_id, device_id, first_seen) VALUES (?, ?, ?)",
        (client_id, device_id, now),
    )


def event_status(event_id: str, state: JournalState) -> str:
    if event_id in state.refusals:
        return "refused"
    key = state.cell_of.get(event_id)
    cell = state.cells.get(key) if key else None
    if cell is None:
        return "recorded"
    if any(e.id == event_id for e in cell.live):
        winner = cell.winner
        if winner is not None and winner.id != event_id:
            return "conflict"
        return "retraction" if isinstance(winner, Retracted) else "current"
    return "superseded"


def refresh_statuses(
    conn: sqlite3.Connection, event_ids: Iterable[str], state: JournalState
) -> None:
    """Give stored events their status in `state` (a refusal withdrawn, or made anew)."""
    conn.executemany(
        "UPDATE events SET status = ? WHERE id = ?",
        [(event_status(i, state), i) for i in event_ids],
    )


def insert_events(
    conn: sqlite3.Connection,
    journal_id: str,
    events: Iterable[tuple[str, JournalEvent]],
    state: JournalState,
    now: float,
) -> None:
    """Record newly arrived events (raw JSON kept verbatim) with their status."""
    conn.executemany(
        "INSERT OR IGNORE INTO events (id, journal_id, kind, author, device, hlc, supersedes, "
        "reason, body, status, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                e.id,
                journal_id,
                type(e).__struct_config__.tag,
                e.author,
                e.device,
                e.hlc,
                json.dumps(list(e.supersedes)),
                e.reason,
                raw,
                event_status(e.id, state),
                now,
            )
            for raw, e in events
        ],
    )


def write_cells(
    conn: sqlite3.Connection, journal_id: str, state: JournalState, keys: Iterable[CellKey]
) -> None:
    """Rewrite the consolidated rows (and event statuses) of the cells an update touched, and
    the report aggregates of their lessons."""
    keys = set(keys)
    for key in keys:
        cell = state.cells.get(key)
        if cell is None:
            if key[0] != "mark":
                continue
            # every entry of the cell was refused afterwards (a mark an exemption displaced,
            # issue 16): its row goes; the caller gives the entry its status (refresh_statuses)
            value, conflict = None, 0
        else:
            conn.executemany(
                "UPDATE events SET status = ? WHERE id = ?",
                [(event_status(e.id, state), e.id) for e in cell.history],
            )
            value, conflict = cell.value, int(cell.in_conflict)
        kind = key[0]
        if kind == "lesson":
            conn.execute(
                "DELETE FROM lessons WHERE journal_id = ? AND lesson_id = ?", (journal_id, key[1])
            )
            if isinstance(value, LessonRecorded):
                conn.execute(
                    "INSERT INTO lessons VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        journal_id,
                        value.lesson_id,
                        value.date.isoformat(),
                        value.slot,
                        value.topic,
                        value.homework,
                        value.work_kind.value,
                        value.id,
                        value.author,
                        value.hlc,
                        conflict,
                    ),
                )
        elif kind == "attendance":
            conn.execute(
                "DELETE FROM attendance WHERE journal_id = ? AND lesson_id = ? AND student_id = ?",
                (journal_id, key[1], key[2]),
            )
            if isinstance(value, AttendanceMarked):
                conn.execute(
                    "INSERT INTO attendance VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        journal_id,
                        value.lesson_id,
                        value.student_id,
                        value.code.value,
                        value.id,
                        value.author,
                        value.hlc,
                        conflict,
                    ),
                )
        elif kind == "mark":
            conn.execute(
                "DELETE FROM marks WHERE journal_id = ? AND lesson_id = ? AND student_id = ? "
                "AND slot = ?",
                (journal_id, key[1], key[2], int(key[3])),
            )
            if isinstance(value, MarkGiven):
                conn.execute(
                    "INSERT INTO marks (journal_id, lesson_id, student_id, slot, value, "
                    "work_kind, weight, event_id, author, hlc, in_conflict, modifier, special) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        journal_id,
                        value.lesson_id,
                        value.student_id,
                        value.slot,
                        value.value,
                        value.work_kind.value,
                        value.weight,
                        value.id,
                        value.author,
                        value.hlc,
                        conflict,
                        value.modifier,
                        value.special.value,
                    ),
                )
        elif kind == "period_mark" and (len(key) > 3 or not _plain(value)):
            _write_attestation(conn, journal_id, key, value, conflict)
        elif kind == "period_mark":
            _write_attestation(conn, journal_id, key, None, 0)
            conn.execute(
                "DELETE FROM period_marks WHERE journal_id = ? AND period_id = ? "
                "AND student_id = ?",
                (journal_id, key[1], key[2]),
            )
            if isinstance(value, PeriodMarkGiven):
                conn.execute(
                    "INSERT INTO period_marks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        journal_id,
                        value.period_id,
                        value.student_id,
                        value.value,
                        value.mark_kind.value,
                        value.id,
                        value.author,
                        value.hlc,
                        conflict,
                    ),
                )
    lessons = {key[1] for key in keys if key[0] in ("lesson", "attendance", "mark")}
    consolidated.refresh_lesson_aggregates(conn, journal_id, lessons)


def _plain(value: object) -> bool:
    """A numeric period or year mark: the row `period_marks` has always kept."""
    return not isinstance(value, PeriodMarkGiven) or value.special is MarkSpecial.NONE


def _write_attestation(
    conn: sqlite3.Connection, journal_id: str, key: CellKey, value: object, conflict: int
) -> None:
    """Marks beside the lessons that are not a plain period or year number (issue 16): «н/а»,
    «осв.», зач/незач, exam, final and thematic marks, one row per cell."""
    kind = key[3] if len(key) > 3 else ""
    topic = key[4] if len(key) > 4 else ""
    conn.execute(
        "DELETE FROM attestation_marks WHERE journal_id = ? AND period_id = ? "
        "AND student_id = ? AND column_kind = ? AND topic = ?",
        (journal_id, key[1], key[2], kind, topic),
    )
    if key[0] == "period_mark" and len(key) == 3 and kind == "":
        conn.execute(
            "DELETE FROM period_marks WHERE journal_id = ? AND period_id = ? AND student_id = ?",
            (journal_id, key[1], key[2]),
        )
    if not isinstance(value, PeriodMarkGiven):
        return
    conn.execute(
        "INSERT INTO attestation_marks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            journal_id,
            value.period_id,
            value.student_id,
            kind,
            topic,
            value.mark_kind.value,
            value.value,
            value.special.value,
            value.na_reason.value if value.na_reason else "",
            value.document,
            value.exempt_from.isoformat() if value.exempt_from else None,
            value.exempt_to.isoformat() if value.exempt_to else None,
            value.id,
            value.author,
            value.hlc,
            conflict,
        ),
    )


# A refused update is kept for a person to look at, not to be replayed: its first bytes and
# its digest say what it was. The quotas keep a flood of refusals from filling the disk: the
# oldest rows of the device (then of the school) go first.
QUARANTINE_PREFIX_BYTES = 16 * 1024
QUARANTINE_ROWS_PER_DEVICE = 100
QUARANTINE_ROWS_PER_SCHOOL = 1000


def quarantine(
    conn: sqlite3.Connection,
    *,
    now: float,
    device_id: str | None,
    login: str | None,
    journal_id: str | None,
    rule: str,
    message_ru: str,
    event_ids: Iterable[str],
    body: bytes | None,
    school_id: str | None = None,
) -> None:
    digest = hashlib.sha256(body).hexdigest() if body is not None else None
    ids = json.dumps(list(event_ids)[:100])
    conn.execute(
        "INSERT INTO quarantine (received_at, device_id, login, journal_id, rule, message_ru, "
        "event_ids, body, body_sha256, body_size, school_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            now,
            device_id,
            login,
            journal_id,
            rule,
            message_ru[:1000],
            ids,
            body[:QUARANTINE_PREFIX_BYTES] if body is not None else None,
            digest,
            len(body) if body is not None else None,
            school_id,
        ),
    )
    for column, value, keep in (
        ("device_id", device_id, QUARANTINE_ROWS_PER_DEVICE),
        ("school_id", school_id, QUARANTINE_ROWS_PER_SCHOOL),
    ):
        conn.execute(
            f"DELETE FROM quarantine WHERE {column} IS ? AND id NOT IN "
            f"(SELECT id FROM quarantine WHERE {column} IS ? ORDER BY id DESC LIMIT ?)",
            (value, value, keep),
        )


def quarantined(
    conn: sqlite3.Connection, limit: int = 500, *, school_id: str | None = None
) -> list[dict]:
    """The newest refused updates; with `school_id`, only that school's (rows written before
    the school was kept: those sent by the school's people)."""
    where, params = "", {"limit": limit}
    if school_id is not None:
        where = (
            "WHERE school_id = :school OR (school_id IS NULL AND login IN "
            f"(SELECT login FROM accounts WHERE person_id IN ({SCHOOL_PEOPLE})))"
        )
        params["school"] = school_id
    rows = conn.execute(
        "SELECT id, received_at, device_id, login, journal_id, rule, message_ru, event_ids, "
        f"COALESCE(body_size, length(body)) AS size, body_sha256 FROM quarantine {where} "
        "ORDER BY id DESC LIMIT :limit",
        params,
    ).fetchall()
    return [dict(r) | {"event_ids": json.loads(r["event_ids"])} for r in rows]


def forget_quarantine_before(conn: sqlite3.Connection, moment: float) -> int:
    return conn.execute("DELETE FROM quarantine WHERE received_at < ?", (moment,)).rowcount


# ----------------------------------------------------------------- resumable sync replies

REPLIES_KEPT_PER_DEVICE = 4
REPLY_KEPT_SECONDS = 24 * 3600


def keep_reply(
    conn: sqlite3.Connection, reply_id: str, device_id: str, body: bytes, now: float
) -> None:
    """Keep a sync reply for its device to fetch the rest of, should the link cut it."""
    conn.execute(
        "INSERT INTO sync_replies(id, device_id, body, created_at) VALUES (?, ?, ?, ?)",
        (reply_id, device_id, body, now),
    )
    conn.execute(
        "DELETE FROM sync_replies WHERE created_at < ? OR (device_id = ? AND id NOT IN "
        "(SELECT id FROM sync_replies WHERE device_id = ? ORDER BY created_at DESC LIMIT ?))",
        (now - REPLY_KEPT_SECONDS, device_id, device_id, REPLIES_KEPT_PER_DEVICE),
    )


def kept_reply(conn: sqlite3.Connection, reply_id: str, device_id: str) -> bytes | None:
    row = conn.execute(
        "SELECT body FROM sync_replies WHERE id = ? AND device_id = ?", (reply_id, device_id)
    ).fetchone()
    return bytes(row["body"]) if row else None
