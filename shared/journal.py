"""The CRDT journal: one Yjs document per (school year, class, subject).

This is the only module that touches pycrdt, so another engine (a maintained Automerge binding)
could replace it. The document holds one root map, `events`: event id -> the event encoded as
JSON text. Entries are immutable: a key is written once and never changed or deleted, which
keeps Yjs' delete set empty and deltas small (see ARCHITECTURE.md, measured facts).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import msgspec
import pycrdt

from shared.fold import JournalState, fold
from shared.model import JournalEvent, decode_event, encode_event

EVENTS_ROOT = "events"
EMPTY_STATE_VECTOR = b"\x00"


def new_client_id() -> int:
    """A random Yjs client id in the 53-bit range JavaScript clients can also hold."""
    return secrets.randbits(53) or 1


# ----------------------------------------------------------------- Yjs binary helpers


def _read_varuint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varuint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 70:
            raise ValueError("varuint too long")


def _write_varuint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_state_vector(sv: bytes) -> dict[int, int]:
    """Yjs state vector (v1) -> {client id: next clock}."""
    count, pos = _read_varuint(sv, 0)
    result: dict[int, int] = {}
    for _ in range(count):
        client, pos = _read_varuint(sv, pos)
        clock, pos = _read_varuint(sv, pos)
        result[client] = clock
    if pos != len(sv):
        raise ValueError("trailing bytes in state vector")
    return result


def encode_state_vector(sv: dict[int, int]) -> bytes:
    parts = [_write_varuint(len(sv))]
    for client, clock in sorted(sv.items()):
        parts += [_write_varuint(client), _write_varuint(clock)]
    return b"".join(parts)


def covers(have: bytes, need: bytes) -> bool:
    """True if state vector `have` contains everything `need` does."""
    have_d = decode_state_vector(have)
    return all(have_d.get(c, 0) >= clock for c, clock in decode_state_vector(need).items())


def update_has_structs(update: bytes) -> bool:
    """True if a v1 update carries any items (not only a delete set)."""
    count, _ = _read_varuint(update, 0)
    return count > 0


def merge_updates(updates: Iterable[bytes]) -> bytes:
    items = [u for u in updates if u]
    if not items:
        return b""
    return items[0] if len(items) == 1 else pycrdt.merge_updates(*items)


# ----------------------------------------------------------------- the document


class UpdateEffect(msgspec.Struct, frozen=True, kw_only=True):
    """What applying an update did to the events map, observed key by key."""

    added: dict[str, str]  # event id -> raw JSON
    changed: tuple[str, ...]  # ids whose value was overwritten (forbidden: events are immutable)
    removed: tuple[str, ...]  # ids deleted (forbidden)
    integrated: bool  # False if some items wait for missing dependencies
    new_clients: dict[int, int]  # client id -> clock advance, from the state vectors


class JournalDoc:
    """A journal's Yjs document with the few operations the rest of the code needs.

    Events are immutable and the map only grows, so the decoded events and their fold are
    kept beside the document and brought up to date with what each `add` or `apply` brings:
    an edit or a delta costs what it adds, not what the journal already holds.
    """

    def __init__(self, state: bytes | None = None, *, client_id: int | None = None):
        self._doc: pycrdt.Doc[pycrdt.Map[str]] = pycrdt.Doc(
            client_id=client_id, allow_multithreading=True
        )
        self._events = self._doc.get(EVENTS_ROOT, type=pycrdt.Map)
        if state:
            self._doc.apply_update(state)
        self._decoded: dict[str, JournalEvent] | None = None  # filled on first use
        self._state: JournalState | None = None
        self._folded: list[str] = []  # decoded ids not yet folded into _state
        self._devices: dict[int, tuple[int, frozenset[str]]] = {}  # client -> (clock, devices)

    @property
    def client_id(self) -> int:
        return self._doc.client_id

    def state_vector(self) -> bytes:
        return self._doc.get_state()

    def snapshot(self) -> bytes:
        """The whole document as one update."""
        return self._doc.get_update()

    def diff(self, state_vector: bytes | None) -> bytes:
        """What a peer with `state_vector` lacks."""
        return self._doc.get_update(state_vector or EMPTY_STATE_VECTOR)

    def client_devices(self, client_id: int) -> frozenset[str]:
        """The devices that wrote the entries stored under one Yjs client id (one device, in
        a valid document). Costs a decode of that client's entries, kept until it writes more."""
        sv = decode_state_vector(self.state_vector())
        clock = sv.get(client_id, 0)
        known = self._devices.get(client_id)
        if known is not None and known[0] == clock:
            return known[1]
        others = encode_state_vector({c: k for c, k in sv.items() if c != client_id})
        part = JournalDoc(self._doc.get_update(others))  # map entries need nothing else
        devices = frozenset(event.device for event in part.events().values())
        self._devices[client_id] = (clock, devices)
        return devices

    def add(self, events: Iterable[JournalEvent]) -> bytes:
        """Add new events; returns the incremental update. Existing ids are never rewritten."""
        events = list(events)
        seen: set[str] = set()
        for event in events:  # all checked first: a refused batch writes nothing
            if event.id in self._events or event.id in seen:
                raise ValueError(f"event {event.id} already exists")
            seen.add(event.id)
        before = self._doc.get_state()
        with self._doc.transaction():
            for event in events:
                self._events[event.id] = encode_event(event)
        if self._decoded is not None:
            for event in events:
                self._decoded[event.id] = event
                self._folded.append(event.id)
        return self._doc.get_update(before)

    def raw_events(self) -> dict[str, str]:
        return {key: str(value) for key, value in self._events.items()}

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._events

    def __len__(self) -> int:
        return len(self._events)

    def events(self) -> Mapping[str, JournalEvent]:
        """Decoded events, read-only; an entry that does not decode is skipped (the server
        stores none)."""
        if self._decoded is None:
            self._decoded = {}
            self._absorb(self.raw_events())
        return MappingProxyType(self._decoded)

    def state(self) -> JournalState:
        """The folded journal, brought up to date with the events that arrived since the last
        call. It is the document's own: a later call may change it in place, so keep
        `fold(doc.events())` instead if an unchanging copy is needed."""
        events = self.events()
        if self._state is None:
            self._state = fold(events)
        elif self._folded:
            self._state = self._state.extend((events[i] for i in self._folded), in_place=True)
        self._folded = []
        return self._state

    def _absorb(self, raw: Mapping[str, str]) -> None:
        assert self._decoded is not None
        for key, text in raw.items():
            try:
                self._decoded[key] = decode_event(text)
            except (msgspec.ValidationError, msgspec.DecodeError):
                continue
            self._folded.append(key)

    def apply(self, update: bytes) -> UpdateEffect:
        """Apply an update and report exactly which keys it added, changed or removed."""
        before = decode_state_vector(self._doc.get_state())
        added: dict[str, str] = {}
        changed: list[str] = []
        removed: list[str] = []

        def on_change(event: pycrdt.MapEvent) -> None:
            # pycrdt names `keys` in MapEvent's __slots__ without a type
            for key, change in event.keys.items():  # type: ignore[attr-defined]
                action = change["action"]
                if action == "add":
                    added[key] = str(change["newValue"])
                elif action == "update":
                    changed.append(key)
                else:
                    removed.append(key)

        subscription = self._events.observe(on_change)
        try:
            self._doc.apply_update(update)
        finally:
            self._events.unobserve(subscription)
            if changed or removed:  # never from a valid peer; decode again from the document
                self._decoded, self._state, self._folded = None, None, []
            elif self._decoded is not None:
                self._absorb(added)
        after_sv = self._doc.get_state()
        after = decode_state_vector(after_sv)
        integrated = not update_has_structs(pycrdt.get_update(update, after_sv))
        new_clients = {
            c: clock - before.get(c, 0) for c, clock in after.items() if clock > before.get(c, 0)
        }
        return UpdateEffect(
            added=added,
            changed=tuple(changed),
            removed=tuple(removed),
            integrated=integrated,
            new_clients=new_clients,
        )
