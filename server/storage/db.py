"""The server's SQLite database: connection settings, schema and transactions.

One file in WAL mode. Journal documents (as an append-only update log) and the consolidated
rows live side by side and are written in the same transaction.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server.storage import consolidated

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- directory: the server is the authority
CREATE TABLE IF NOT EXISTS schools (id TEXT PRIMARY KEY, name TEXT NOT NULL, district TEXT);
CREATE TABLE IF NOT EXISTS years (
    id TEXT PRIMARY KEY, school_id TEXT NOT NULL REFERENCES schools(id), name TEXT NOT NULL,
    starts TEXT NOT NULL, ends TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS periods (
    id TEXT PRIMARY KEY, year_id TEXT NOT NULL REFERENCES years(id), kind TEXT NOT NULL,
    number INTEGER NOT NULL, name TEXT NOT NULL, starts TEXT NOT NULL, ends TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS classes (
    id TEXT PRIMARY KEY, year_id TEXT NOT NULL REFERENCES years(id), grade INTEGER NOT NULL,
    letter TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS subjects (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS students (
    id TEXT PRIMARY KEY, last_name TEXT NOT NULL, first_name TEXT NOT NULL,
    patronymic TEXT NOT NULL DEFAULT '', birth_date TEXT);
CREATE TABLE IF NOT EXISTS memberships (
    student_id TEXT NOT NULL REFERENCES students(id), class_id TEXT NOT NULL REFERENCES classes(id),
    starts TEXT NOT NULL, ends TEXT, PRIMARY KEY (student_id, class_id, starts));
CREATE TABLE IF NOT EXISTS staff (
    id TEXT PRIMARY KEY, school_id TEXT NOT NULL, last_name TEXT NOT NULL,
    first_name TEXT NOT NULL, patronymic TEXT NOT NULL DEFAULT '', roles TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parents (
    id TEXT PRIMARY KEY, last_name TEXT NOT NULL, first_name TEXT NOT NULL,
    patronymic TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS parent_links (
    parent_id TEXT NOT NULL REFERENCES parents(id),
    student_id TEXT NOT NULL REFERENCES students(id), PRIMARY KEY (parent_id, student_id));
CREATE TABLE IF NOT EXISTS teaching (
    teacher_id TEXT NOT NULL REFERENCES staff(id), class_id TEXT NOT NULL REFERENCES classes(id),
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    PRIMARY KEY (teacher_id, class_id, subject_id));
CREATE TABLE IF NOT EXISTS class_teachers (
    teacher_id TEXT NOT NULL REFERENCES staff(id), class_id TEXT NOT NULL REFERENCES classes(id),
    PRIMARY KEY (teacher_id, class_id));

-- accounts and devices
CREATE TABLE IF NOT EXISTS accounts (
    login TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,
    person_id TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1,
    failed_logins INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0,
    created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY, login TEXT NOT NULL REFERENCES accounts(login), name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE, created_at REAL NOT NULL, last_seen REAL,
    revoked_at REAL);
-- a Yjs client id belongs to the device that first used it: no one writes under another's id
CREATE TABLE IF NOT EXISTS client_ids (
    client_id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, first_seen REAL NOT NULL);

-- journals: the Yjs update log (squashed when it grows) and the consolidated rows
CREATE TABLE IF NOT EXISTS journals (
    id TEXT PRIMARY KEY, year_id TEXT NOT NULL, class_id TEXT NOT NULL, subject_id TEXT NOT NULL,
    state_vector BLOB NOT NULL, event_count INTEGER NOT NULL DEFAULT 0, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS journal_updates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, journal_id TEXT NOT NULL REFERENCES journals(id),
    body BLOB NOT NULL, device_id TEXT, received_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS journal_updates_journal ON journal_updates(journal_id, seq);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, journal_id TEXT NOT NULL, kind TEXT NOT NULL, author TEXT NOT NULL,
    device TEXT NOT NULL, hlc TEXT NOT NULL, supersedes TEXT NOT NULL, reason TEXT NOT NULL,
    body TEXT NOT NULL, status TEXT NOT NULL, received_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS events_journal ON events(journal_id, hlc);
CREATE TABLE IF NOT EXISTS lessons (
    journal_id TEXT NOT NULL, lesson_id TEXT NOT NULL, date TEXT NOT NULL, slot INTEGER NOT NULL,
    topic TEXT NOT NULL, homework TEXT NOT NULL, work_kind TEXT NOT NULL, event_id TEXT NOT NULL,
    author TEXT NOT NULL, hlc TEXT NOT NULL, in_conflict INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (journal_id, lesson_id));
CREATE TABLE IF NOT EXISTS attendance (
    journal_id TEXT NOT NULL, lesson_id TEXT NOT NULL, student_id TEXT NOT NULL,
    code TEXT NOT NULL, event_id TEXT NOT NULL, author TEXT NOT NULL, hlc TEXT NOT NULL,
    in_conflict INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (journal_id, lesson_id, student_id));
CREATE TABLE IF NOT EXISTS marks (
    journal_id TEXT NOT NULL, lesson_id TEXT NOT NULL, student_id TEXT NOT NULL,
    slot INTEGER NOT NULL, value INTEGER NOT NULL, work_kind TEXT NOT NULL,
    weight INTEGER NOT NULL, event_id TEXT NOT NULL, author TEXT NOT NULL, hlc TEXT NOT NULL,
    in_conflict INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (journal_id, lesson_id, student_id, slot));
CREATE INDEX IF NOT EXISTS marks_student ON marks(student_id);
CREATE TABLE IF NOT EXISTS period_marks (
    journal_id TEXT NOT NULL, period_id TEXT NOT NULL, student_id TEXT NOT NULL,
    value INTEGER NOT NULL, mark_kind TEXT NOT NULL, event_id TEXT NOT NULL,
    author TEXT NOT NULL, hlc TEXT NOT NULL, in_conflict INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (journal_id, period_id, student_id));

-- large sync replies, kept a while so a reply cut mid-body resumes where it stopped
CREATE TABLE IF NOT EXISTS sync_replies (
    id TEXT PRIMARY KEY, device_id TEXT NOT NULL, body BLOB NOT NULL, created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sync_replies_device ON sync_replies(device_id, created_at);

-- year-end archive (issue 5): closing, authorised corrections, packages, retention
CREATE TABLE IF NOT EXISTS year_closures (
    year_id TEXT PRIMARY KEY REFERENCES years(id), closed_on TEXT NOT NULL,
    closed_at REAL NOT NULL, closed_by TEXT NOT NULL, login TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS correction_grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT, year_id TEXT NOT NULL, journal_id TEXT NOT NULL,
    person_id TEXT NOT NULL, reason TEXT NOT NULL, granted_by TEXT NOT NULL,
    granted_at REAL NOT NULL, expires_on TEXT NOT NULL, revoked_at REAL);
CREATE TABLE IF NOT EXISTS correction_log (
    event_id TEXT PRIMARY KEY, journal_id TEXT NOT NULL, grant_id INTEGER NOT NULL,
    author TEXT NOT NULL, reason TEXT NOT NULL, supersedes TEXT NOT NULL, body TEXT NOT NULL,
    logged_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS archive_packages (
    name TEXT PRIMARY KEY, kind TEXT NOT NULL, year_id TEXT NOT NULL, journal_id TEXT,
    revision INTEGER NOT NULL, sha256 TEXT NOT NULL, previous_sha256 TEXT NOT NULL,
    path TEXT NOT NULL, key_fingerprint TEXT NOT NULL, created_at REAL NOT NULL,
    created_by TEXT NOT NULL);
-- archive builds started from the web page: progress a person can watch, outcome kept
CREATE TABLE IF NOT EXISTS archive_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, year_id TEXT, journal_id TEXT, login TEXT NOT NULL,
    state TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0, total INTEGER NOT NULL DEFAULT 0,
    started_at REAL NOT NULL, heartbeat REAL NOT NULL, finished_at REAL, package TEXT,
    sha256 TEXT, files INTEGER, payload_bytes INTEGER, error TEXT);
-- each journal's archival PDF, printed ahead of the package; `content_key` is the SHA-256 of
-- what the PDF shows (server/archive/pdf_cache.py), so a correction misses the cache
CREATE TABLE IF NOT EXISTS archive_pdf_cache (
    journal_id TEXT PRIMARY KEY, content_key TEXT NOT NULL, printed_at TEXT NOT NULL,
    pdf BLOB NOT NULL, made_at REAL NOT NULL);
-- the printed journal signed by the teacher and the director and sealed, recorded from paper
CREATE TABLE IF NOT EXISTS journal_signoffs (
    journal_id TEXT PRIMARY KEY, signed_on TEXT NOT NULL, recorded_by TEXT NOT NULL,
    recorded_at REAL NOT NULL);
-- packages the server builds by itself (server/archive/schedule.py): a school's monthly
-- setting, and each scheduled attempt with its outcome
CREATE TABLE IF NOT EXISTS archive_schedule (
    school_id TEXT PRIMARY KEY, monthly INTEGER NOT NULL DEFAULT 0, updated_at REAL NOT NULL,
    updated_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS archive_schedule_runs (
    school_id TEXT NOT NULL, label TEXT NOT NULL, year_id TEXT NOT NULL, title TEXT NOT NULL,
    state TEXT NOT NULL, package TEXT NOT NULL, error TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (school_id, label));
CREATE TABLE IF NOT EXISTS retention_policy (
    category TEXT PRIMARY KEY, years INTEGER NOT NULL, updated_at REAL NOT NULL,
    updated_by TEXT NOT NULL);
-- each school's own retention schedule; retention_policy above is the server-wide one of
-- earlier releases, still read under a school's own
CREATE TABLE IF NOT EXISTS school_retention_policy (
    school_id TEXT NOT NULL, category TEXT NOT NULL, years INTEGER NOT NULL,
    updated_at REAL NOT NULL, updated_by TEXT NOT NULL, PRIMARY KEY (school_id, category));
CREATE TABLE IF NOT EXISTS destruction_acts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT NOT NULL UNIQUE, drafted_on TEXT NOT NULL,
    drafted_by TEXT NOT NULL, items TEXT NOT NULL, recorded_at REAL, recorded_by TEXT);
CREATE TABLE IF NOT EXISTS destruction_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, act_id INTEGER NOT NULL REFERENCES destruction_acts(id),
    category TEXT NOT NULL, item TEXT NOT NULL, detail TEXT NOT NULL, removed_at REAL NOT NULL,
    removed_by TEXT NOT NULL);

-- portfolio (issue 7): consolidated achievements and the documents that prove them
CREATE TABLE IF NOT EXISTS achievements (
    id TEXT PRIMARY KEY, student_id TEXT NOT NULL, year_id TEXT NOT NULL, kind TEXT NOT NULL,
    title TEXT NOT NULL, area TEXT NOT NULL DEFAULT '', level TEXT NOT NULL,
    result TEXT NOT NULL, date TEXT NOT NULL, organiser TEXT NOT NULL DEFAULT '',
    external INTEGER NOT NULL DEFAULT 0, family_consent INTEGER NOT NULL DEFAULT 0,
    attachment TEXT, author TEXT NOT NULL, recorded_at TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS achievements_student ON achievements(student_id, date);
CREATE TABLE IF NOT EXISTS attachments (
    sha256 TEXT PRIMARY KEY, media_type TEXT NOT NULL, size INTEGER NOT NULL,
    received INTEGER NOT NULL DEFAULT 0, body BLOB, uploaded_by TEXT NOT NULL,
    created_at REAL NOT NULL, completed_at REAL, device_id TEXT, school_id TEXT);

-- personal files (issue 7): the year marks of every closed year, kept per pupil across years
-- and classes; written when the year is closed, never removed with the journals (000 §4.2.3)
CREATE TABLE IF NOT EXISTS personal_file (
    student_id TEXT NOT NULL, year_id TEXT NOT NULL, year_name TEXT NOT NULL,
    class_id TEXT NOT NULL, class_name TEXT NOT NULL, subject_id TEXT NOT NULL,
    subject_name TEXT NOT NULL, value INTEGER NOT NULL, recorded_at REAL NOT NULL,
    PRIMARY KEY (student_id, year_id, class_id, subject_id));

-- updates refused whole, kept with their reason for a person to look at
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT, received_at REAL NOT NULL, device_id TEXT,
    login TEXT, journal_id TEXT, rule TEXT NOT NULL, message_ru TEXT NOT NULL,
    event_ids TEXT NOT NULL DEFAULT '[]', body BLOB, body_sha256 TEXT, body_size INTEGER,
    school_id TEXT);
CREATE INDEX IF NOT EXISTS attendance_student ON attendance(student_id);
CREATE INDEX IF NOT EXISTS lessons_date ON lessons(journal_id, date);
-- reports (issue 4): absences without the «present» rows that are most of a year's attendance,
-- and the marks' values without reading the wide rows
CREATE INDEX IF NOT EXISTS attendance_absences ON attendance(journal_id, lesson_id)
    WHERE code != 'present';
CREATE INDEX IF NOT EXISTS marks_values ON marks(journal_id, lesson_id, student_id, value, weight);
CREATE INDEX IF NOT EXISTS lessons_days ON lessons(journal_id, date, slot, lesson_id, work_kind);
-- per-lesson aggregates for the completeness report, rewritten with the lesson's rows
-- (consolidated.refresh_lesson_aggregates); the date is the lesson's, for date ranges
CREATE TABLE IF NOT EXISTS lesson_facts (
    journal_id TEXT NOT NULL, date TEXT NOT NULL, lesson_id TEXT NOT NULL, author TEXT NOT NULL,
    blank_topic INTEGER NOT NULL, attended INTEGER NOT NULL,
    PRIMARY KEY (journal_id, date, lesson_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entry_delays (
    journal_id TEXT NOT NULL, date TEXT NOT NULL, lesson_id TEXT NOT NULL, author TEXT NOT NULL,
    delay INTEGER NOT NULL, entries INTEGER NOT NULL,
    PRIMARY KEY (journal_id, date, lesson_id, author, delay)) WITHOUT ROWID;

-- people on the web: sessions (only the cookie's hash is kept), consents, acknowledgements
CREATE TABLE IF NOT EXISTS web_sessions (
    id_hash TEXT PRIMARY KEY, login TEXT NOT NULL REFERENCES accounts(login),
    csrf TEXT NOT NULL, created_at REAL NOT NULL, last_seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS consents (
    parent_id TEXT PRIMARY KEY REFERENCES parents(id), status TEXT NOT NULL,
    recorded_by TEXT NOT NULL, recorded_at REAL NOT NULL, note TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS acknowledgements (
    parent_id TEXT NOT NULL, student_id TEXT NOT NULL, week TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (parent_id, student_id, week));
-- every view of a pupil's personal data by staff, and every refused attempt
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, login TEXT NOT NULL,
    role TEXT NOT NULL, action TEXT NOT NULL, student_id TEXT, class_id TEXT,
    detail TEXT NOT NULL DEFAULT '', outcome TEXT NOT NULL DEFAULT 'allowed');
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at);
-- a district server's figures of schools kept on other servers, from signed files (issue 4)
CREATE TABLE IF NOT EXISTS district_imports (
    school_id TEXT PRIMARY KEY, name TEXT NOT NULL, district TEXT NOT NULL, date_from TEXT,
    date_to TEXT, created TEXT NOT NULL, grades TEXT NOT NULL, fingerprint TEXT NOT NULL,
    imported_at REAL NOT NULL);
-- school lists (issue 15): the stable key of a person (a hash of the СНИЛС: re-importing an
-- edited list finds the same person), the teaching load's groups and hours, consent per child,
-- and uploaded lists waiting between their preview and «Применить»
CREATE TABLE IF NOT EXISTS person_keys (
    kind TEXT NOT NULL, key TEXT NOT NULL, person_id TEXT NOT NULL,
    PRIMARY KEY (kind, key, person_id));
CREATE TABLE IF NOT EXISTS teaching_load (
    teacher_id TEXT NOT NULL, class_id TEXT NOT NULL, subject_id TEXT NOT NULL,
    group_name TEXT NOT NULL DEFAULT '', hours REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (teacher_id, class_id, subject_id, group_name));
CREATE TABLE IF NOT EXISTS child_consents (
    parent_id TEXT NOT NULL, student_id TEXT NOT NULL, status TEXT NOT NULL,
    recorded_by TEXT NOT NULL, recorded_at REAL NOT NULL, note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (parent_id, student_id));
-- an account whose password was handed out on a slip: the next login must change it
CREATE TABLE IF NOT EXISTS password_change_required (
    login TEXT PRIMARY KEY, since REAL NOT NULL, issued_by TEXT NOT NULL);
-- книга движения учащихся: arrivals, leavers and moves with the order that made them
CREATE TABLE IF NOT EXISTS pupil_movements (
    id INTEGER PRIMARY KEY AUTOINCREMENT, school_id TEXT NOT NULL, student_id TEXT NOT NULL,
    kind TEXT NOT NULL, day TEXT NOT NULL, order_no TEXT NOT NULL, place TEXT NOT NULL,
    class_from TEXT, class_to TEXT, recorded_by TEXT NOT NULL, recorded_at REAL NOT NULL);
-- the year's outcome of every pupil (переведён, условно, оставлен, выпущен), kept with the year
CREATE TABLE IF NOT EXISTS promotions (
    year_id TEXT NOT NULL, student_id TEXT NOT NULL, class_id TEXT NOT NULL,
    outcome TEXT NOT NULL, decided_by TEXT NOT NULL, decided_at REAL NOT NULL,
    PRIMARY KEY (year_id, student_id));
-- marks an arriving pupil brought from another school (their signed transfer extract), kept
-- with their source in the personal file and never mixed with the marks this school gave
CREATE TABLE IF NOT EXISTS incoming_marks (
    student_id TEXT NOT NULL, source_school TEXT NOT NULL, source_school_id TEXT NOT NULL,
    year TEXT NOT NULL, class_name TEXT NOT NULL, subject TEXT NOT NULL, kind TEXT NOT NULL,
    period TEXT NOT NULL, value INTEGER NOT NULL, signed_by TEXT NOT NULL,
    imported_by TEXT NOT NULL, imported_at REAL NOT NULL,
    PRIMARY KEY (student_id, source_school_id, year, subject, kind, period));
CREATE TABLE IF NOT EXISTS list_drafts (
    id TEXT PRIMARY KEY, school_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
    body BLOB NOT NULL, login TEXT NOT NULL, created_at REAL NOT NULL);

-- the school's time zone (a fixed UTC offset: Russia keeps no summer time); Moscow without one
CREATE TABLE IF NOT EXISTS school_time_zones (
    school_id TEXT PRIMARY KEY, utc_offset_minutes INTEGER NOT NULL);
-- every close, early close and reopening of a school year, by whom and why
CREATE TABLE IF NOT EXISTS year_closing_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, year_id TEXT NOT NULL, action TEXT NOT NULL,
    login TEXT NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL);
-- failed logins, shared by every server process: per login name (existing or not) and per
-- client address (server/storage/login_limits.py)
CREATE TABLE IF NOT EXISTS login_failures (
    login TEXT PRIMARY KEY, failures INTEGER NOT NULL, first_at REAL NOT NULL,
    locked_until REAL NOT NULL);
CREATE TABLE IF NOT EXISTS login_address_failures (address TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS login_address_failures_at ON login_address_failures(address, at);

-- issue 16: marks beside the lessons other than a plain period/year number: «н/а», «осв.»,
-- зач/незач (value 0), exam, final and thematic marks; one row per cell of the journal
CREATE TABLE IF NOT EXISTS attestation_marks (
    journal_id TEXT NOT NULL, period_id TEXT NOT NULL, student_id TEXT NOT NULL,
    column_kind TEXT NOT NULL, topic TEXT NOT NULL, mark_kind TEXT NOT NULL,
    value INTEGER NOT NULL, special TEXT NOT NULL, na_reason TEXT NOT NULL,
    document TEXT NOT NULL, exempt_from TEXT, exempt_to TEXT, event_id TEXT NOT NULL,
    author TEXT NOT NULL, hlc TEXT NOT NULL, in_conflict INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (journal_id, period_id, student_id, column_kind, topic));
-- issue 16: the school's scales (per grade and/or subject) and weights by kind of work
CREATE TABLE IF NOT EXISTS scales (
    school_id TEXT NOT NULL, grade INTEGER NOT NULL DEFAULT 0, subject_id TEXT NOT NULL
    DEFAULT '', scale TEXT NOT NULL, modifiers INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, grade, subject_id));
CREATE TABLE IF NOT EXISTS work_weights (
    school_id TEXT NOT NULL, work_kind TEXT NOT NULL, weight INTEGER NOT NULL,
    PRIMARY KEY (school_id, work_kind));
-- a closed period: later changes of its marks need a reason and are flagged
CREATE TABLE IF NOT EXISTS period_closures (
    class_id TEXT NOT NULL, period_id TEXT NOT NULL, closed_by TEXT NOT NULL,
    closed_at REAL NOT NULL, PRIMARY KEY (class_id, period_id));
"""


DIRECTORY_VERSION_KEY = "directory_version"
# Every table `server.storage.directory.load_full` reads: a write to any of them gives
# meta.directory_version a fresh random token, so caches of the directory (server/sync/
# directory_cache.py) notice it whichever process wrote. A new directory table goes here too.
DIRECTORY_TABLES = (
    "schools",
    "years",
    "periods",
    "classes",
    "subjects",
    "students",
    "memberships",
    "staff",
    "teaching",
    "class_teachers",
    "year_closures",
    "correction_grants",
    "scales",
    "work_weights",
)
DIRECTORY_TRIGGERS = "\n".join(
    f"CREATE TRIGGER IF NOT EXISTS directory_version_{table}_{op.lower()} AFTER {op} ON {table} "
    f"BEGIN UPDATE meta SET value = lower(hex(randomblob(8))) "
    f"WHERE key = '{DIRECTORY_VERSION_KEY}'; END;"
    for table in DIRECTORY_TABLES
    for op in ("INSERT", "UPDATE", "DELETE")
)


_savepoints = itertools.count()


def connect(path: Path | str) -> sqlite3.Connection:
    """Open the database (creating its folder) in WAL mode with explicit transactions."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


# columns added to tables that existing databases already have (issue 12)
ADDED_COLUMNS = {
    "quarantine": ("body_sha256 TEXT", "body_size INTEGER", "school_id TEXT"),
    "attachments": ("device_id TEXT", "school_id TEXT"),
}


def _add_columns(conn: sqlite3.Connection) -> None:
    for table, columns in ADDED_COLUMNS.items():
        have = {r["name"] for r in conn.execute(f"PRAGMA table_info({table})").fetchall()}
        for column in columns:
            if column.split()[0] not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column}")


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the tables a database lacks, or nothing. The statements run in one transaction:
    a new database commits (and syncs to disk) once, not once for each of ~170 statements, and
    is never left with half a schema."""
    try:
        conn.executescript(f"BEGIN;\n{SCHEMA}\n{DIRECTORY_TRIGGERS}\nCOMMIT;")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    with transaction(conn):
        _add_columns(conn)
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
            (SCHEMA_VERSION,),
        )
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES (?, lower(hex(randomblob(8))))",
            (DIRECTORY_VERSION_KEY,),
        )
    if get_meta(conn, AGGREGATES_KEY) is None:  # a database made before the aggregates
        with transaction(conn):
            consolidated.rebuild_lesson_aggregates(conn)
            set_meta(conn, AGGREGATES_KEY, "1")
    _consents_per_child(conn)


CHILD_CONSENTS_KEY = "child_consents"  # meta: consents per parent copied to each child


def _consents_per_child(conn: sqlite3.Connection) -> None:
    """Consents were once kept per parent: each is copied to every child the parent had when
    the database was upgraded, so no family loses access it had; later children need their own."""
    if get_meta(conn, CHILD_CONSENTS_KEY) is not None:
        return
    with transaction(conn):
        conn.execute(
            "INSERT OR IGNORE INTO child_consents SELECT c.parent_id, l.student_id, c.status, "
            "c.recorded_by, c.recorded_at, c.note FROM consents c JOIN parent_links l "
            "ON l.parent_id = c.parent_id"
        )
        set_meta(conn, CHILD_CONSENTS_KEY, "1")


AGGREGATES_KEY = "lesson_aggregates"  # meta: the report aggregates are kept for every lesson


@contextmanager
def transaction(
    conn: sqlite3.Connection, *, immediate: bool = True
) -> Iterator[sqlite3.Connection]:
    """One atomic unit of work; IMMEDIATE takes the write lock up front so writers queue.

    Inside another transaction it is a savepoint: its work is undone alone if it fails and
    kept (committed with the outer one) if it succeeds."""
    if conn.in_transaction:
        name = f"sp{id(conn)}_{next(_savepoints)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
            raise
        else:
            conn.execute(f"RELEASE {name}")
        return
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row["value"] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
