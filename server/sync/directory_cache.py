"""The school directory kept in memory between sync requests.

`load_full` reads every class, pupil, membership and teaching row: for a district-sized
directory that was most of a sync request's time (issue 6, scripts/bench/district_bench.py).
Every directory table (and the year closures and correction grants `load_full` also reads)
has triggers that write a fresh random token to `meta.directory_version` on any insert, update
or delete (server/storage/db.py), so one indexed read before each use tells whether the copy
is current, whichever process or tool wrote the database, and a database file restored from a
backup shows its own token. The token is read before loading, so a write that lands during a
load makes the next use load again rather than keep a stale copy.

The cache wraps `load_full` without knowing its parameters: the key is the positional and
keyword arguments after the connection, plus today's date (the correction grants in force
depend on it). The journal contexts the rules need are derived once per cached directory.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from server.storage import directory as directory_storage
from server.storage.db import DIRECTORY_VERSION_KEY, get_meta
from shared.model import Directory, JournalInfo, is_portfolio_id
from shared.rules import JournalContext, PortfolioContext


@dataclass
class _Entry:
    version: str | None
    directory: Directory
    contexts: dict[JournalInfo, JournalContext] = field(default_factory=dict)
    make: Callable[[JournalInfo], JournalContext] | None = None


class DirectoryCache:
    def __init__(
        self,
        capacity: int = 64,  # directories (one per school and year asked for)
        loader: Callable[..., Directory] | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ):
        self.capacity = capacity
        self._loader = loader
        self._today = today
        self._guard = threading.Lock()
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self.loads = 0  # how many times the directory was read from the database (tests, benches)

    def load(self, conn: sqlite3.Connection, *args, **kwargs) -> Directory:
        """`load_full(conn, *args, **kwargs)`, from memory while the database has not changed."""
        key = (args, tuple(sorted(kwargs.items())), self._today())
        version = get_meta(conn, DIRECTORY_VERSION_KEY)
        with self._guard:
            entry = self._entries.get(key)
            if entry is not None and version is not None and entry.version == version:
                self._entries.move_to_end(key)
                return entry.directory
        loader = self._loader or directory_storage.load_full
        directory = loader(conn, *args, **kwargs)
        self.loads += 1
        with self._guard:
            self._entries[key] = _Entry(version, directory)
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return directory

    def context(
        self, directory: Directory, journal: JournalInfo
    ) -> JournalContext | PortfolioContext:
        """The rules' context of a journal (`shared.rules.context_for`); a subject journal's is
        kept with the cached directory it was made from."""
        if is_portfolio_id(journal.id):
            return PortfolioContext.from_directory(directory, journal)
        with self._guard:
            entry = next((e for e in self._entries.values() if e.directory is directory), None)
            if entry is None:
                return JournalContext.from_directory(directory, journal)
            found = entry.contexts.get(journal)
            if found is None:
                if entry.make is None:
                    entry.make = JournalContext.maker(directory)
                found = entry.contexts[journal] = entry.make(journal)
            return found

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()
