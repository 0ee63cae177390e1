"""Journal documents kept in memory between sync requests.

Loading a journal means merging its update log and decoding every event; folding it means
sorting them all. Done per push, that made a day's delta cost as much as the whole journal.
The cache keeps each journal's `JournalDoc` (which keeps its decoded events and fold up to
date incrementally) and checks it against the database before every use: the version is the
last update-log row and the stored state vector, both written in the same transaction as the
update, so a write by another process or a restored database file is noticed and the document
is loaded again. A document is dropped whenever a request fails after touching it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from server.storage import journals as storage
from shared.journal import JournalDoc

Version = tuple[int, bytes]


class DocumentCache:
    def __init__(self, capacity: int = 256):
        self.capacity = capacity
        self._guard = threading.Lock()
        self._locks: dict[str, threading.RLock] = {}
        self._entries: OrderedDict[str, tuple[Version, JournalDoc]] = OrderedDict()
        self.loads = 0  # how many documents were read from the database (for tests, benches)

    @contextmanager
    def lock(self, journal_id: str) -> Iterator[None]:
        """Serialise this process's work on one journal; a failure drops its document."""
        with self._guard:
            lock = self._locks.setdefault(journal_id, threading.RLock())
        with lock:
            try:
                yield
            except BaseException:
                self.drop(journal_id)
                raise

    def load(self, conn: sqlite3.Connection, journal_id: str, client_id: int) -> JournalDoc:
        """The journal as the database holds it now. Call under `lock(journal_id)`."""
        version = storage.document_version(conn, journal_id)
        with self._guard:
            entry = self._entries.get(journal_id)
            if entry is not None and entry[0] == version:
                self._entries.move_to_end(journal_id)
                return entry[1]
        state, _ = storage.load_document(conn, journal_id)
        doc = JournalDoc(state, client_id=client_id)
        self.loads += 1
        self._remember(journal_id, version, doc)
        return doc

    def keep(self, conn: sqlite3.Connection, journal_id: str, doc: JournalDoc) -> None:
        """Remember `doc` as what this transaction wrote. Call inside it, after the writes."""
        self._remember(journal_id, storage.document_version(conn, journal_id), doc)

    def drop(self, journal_id: str) -> None:
        with self._guard:
            self._entries.pop(journal_id, None)

    def _remember(self, journal_id: str, version: Version, doc: JournalDoc) -> None:
        with self._guard:
            self._entries[journal_id] = (version, doc)
            self._entries.move_to_end(journal_id)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
