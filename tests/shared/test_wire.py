"""Sync wire messages: round trips, and every kind of bad body refused as a WireError."""

from __future__ import annotations

import zlib

import msgspec
import pytest

from shared import wire
from shared.wire import (
    MAX_INFLATED_BYTES,
    Bundle,
    JournalPush,
    JournalReply,
    Outcome,
    SyncRequest,
    SyncResponse,
    WireError,
    decode,
    encode,
)
from tests.factories import MATH_5, RUSSIAN_5

REQUEST = SyncRequest(
    journals=(
        JournalPush(journal_id=MATH_5, state_vector=b"\x01\x07\x02", update=b"\x01\x02\x03"),
        JournalPush(journal_id=RUSSIAN_5, state_vector=b"\x00"),
    )
)
RESPONSE = SyncResponse(
    journals=(
        JournalReply(journal_id=MATH_5, outcome=Outcome.ACCEPTED, state_vector=b"\x01\x07\x03"),
        JournalReply(
            journal_id=RUSSIAN_5,
            outcome=Outcome.REFUSED,
            update=b"\x00\x00",
            rule="events_are_immutable",
            message_ru="Записи журнала нельзя изменять или удалять.",
            event_ids=("e1", "e2"),
        ),
    ),
    server_time_ms=1_791_000_000_000,
)
BUNDLE = Bundle(
    device_id="dev-1",
    login="math",
    created_ms=1_791_000_000_000,
    body=encode(REQUEST),
    mac=bytes(range(32)),
)


@pytest.mark.parametrize("message", [REQUEST, RESPONSE, BUNDLE], ids=lambda m: type(m).__name__)
def test_message_round_trips(message: wire.Message) -> None:
    decoded = decode(encode(message))
    assert type(decoded) is type(message)
    assert decoded == message


def test_bundle_body_decodes_to_the_request_it_carries() -> None:
    assert decode(decode(encode(BUNDLE)).body) == REQUEST


@pytest.mark.parametrize("body", [b"", b"\xff" * 64, b"not a sync body at all"])
def test_garbage_bytes_are_a_wire_error(body: bytes) -> None:
    with pytest.raises(WireError):
        decode(body)


def test_uncompressed_msgpack_is_a_wire_error() -> None:
    with pytest.raises(WireError, match="не сообщение синхронизации"):
        decode(msgspec.msgpack.encode(REQUEST))


def test_truncated_body_is_a_wire_error() -> None:
    body = encode(RESPONSE)
    with pytest.raises(WireError):
        decode(body[: len(body) // 2])


@pytest.mark.parametrize(
    "payload",
    [
        [1, 2, 3],
        {"type": "push", "journals": []},
        {"type": "sync", "journals": "все"},
        {"type": "sync", "journals": [{"journal_id": MATH_5}]},
        {"type": "sync_reply", "journals": [{"journal_id": MATH_5, "outcome": "maybe"}]},
        "sync",
    ],
)
def test_valid_msgpack_of_the_wrong_shape_is_a_wire_error(payload: object) -> None:
    with pytest.raises(WireError):
        decode(zlib.compress(msgspec.msgpack.encode(payload)))


_real_decompressobj = zlib.decompressobj


class _CountingInflater:
    """Wraps a zlib decompressor and counts how many bytes it produced."""

    produced = 0

    def __init__(self) -> None:
        self._inner = _real_decompressobj()

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        out = self._inner.decompress(data, max_length)
        _CountingInflater.produced += len(out)
        return out

    @property
    def unconsumed_tail(self) -> bytes:
        return self._inner.unconsumed_tail


def test_zip_bomb_is_a_wire_error_without_inflating_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    size = 100 * 1024 * 1024
    packer = zlib.compressobj(1)
    chunk = bytes(1024 * 1024)
    bomb = b"".join(packer.compress(chunk) for _ in range(size // len(chunk))) + packer.flush()
    assert len(bomb) < 1024 * 1024

    _CountingInflater.produced = 0
    monkeypatch.setattr(wire.zlib, "decompressobj", _CountingInflater)
    with pytest.raises(WireError):
        decode(bomb)
    assert 0 < _CountingInflater.produced <= MAX_INFLATED_BYTES < size
