"""Sync wire messages: msgpack through msgspec, compressed with zlib.

A request carries, per journal, the client's state vector and its update (what the server
lacks, as far as the client knows); the reply carries what the client lacks, the server's state
vector and the outcome. Every step is idempotent, so a retried or duplicated request is safe.
Schema evolution follows msgspec's rules: new fields get defaults, no field changes type.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from enum import StrEnum

import msgspec

from shared.journal import decode_state_vector, encode_state_vector

PROTOCOL_VERSION = 1
# Read first, before the rest of a request is decoded, so that a laptop too old (or too new)
# for this server is told so in Russian instead of getting a decoding error.
PROTOCOL_TOO_OLD_RU = (
    "Программа на этом компьютере устарела для сервера школы (протокол {got}, сервер ждёт "
    "{want}). Установите обновление: откройте в браузере {install}. Записи сохранены на "
    "компьютере и будут отправлены после обновления."
)
PROTOCOL_TOO_NEW_RU = (
    "Программа на этом компьютере новее сервера школы (протокол {got}, сервер ждёт {want}): "
    "попросите обновить сервер. Записи сохранены на компьютере и будут отправлены потом."
)
CONTENT_TYPE = "application/x-zhurnal-sync"
MAX_REQUEST_BYTES = 8 * 1024 * 1024  # compressed body
MAX_INFLATED_BYTES = 64 * 1024 * 1024  # after decompression: a zip bomb stops here
# …and sooner: a journal's msgpack shrinks about tenfold, so a body may inflate to at most
# this many times its size (with a floor for small ones), decided before inflating
MAX_INFLATION_RATIO = 64
MIN_INFLATED_LIMIT = 1024 * 1024
REPLY_BUDGET_BYTES = 256 * 1024  # a reply stops adding journals past this; the rest follows
# A reply body larger than this is kept by the server for a while under the id in the
# REPLY_ID_HEADER, so a client whose link cut it mid-body fetches only the rest (HTTP Range).
RESUMABLE_REPLY_BYTES = 4 * 1024
REPLY_ID_HEADER = "X-Sync-Reply"


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # stored (some events may carry a server refusal inside the document)
    UNCHANGED = "unchanged"  # nothing new in the update: a duplicate or an empty push
    RESEND = "resend"  # temporary: the update depends on something the server lacks
    REFUSED = "refused"  # permanent: refused whole and quarantined; rebuild on server state
    DEFERRED = "deferred"  # temporary: the reply budget is spent; ask again


class JournalPush(msgspec.Struct, frozen=True, kw_only=True):
    journal_id: str
    state_vector: bytes  # the client's, so the server can answer with what it lacks
    update: bytes = b""  # empty: a pull only


class SyncRequest(msgspec.Struct, frozen=True, kw_only=True, tag="sync"):
    protocol: int = PROTOCOL_VERSION
    journals: tuple[JournalPush, ...] = ()
    # For every other journal the sender may read: the digest of the server states it last
    # heard of (`quiet_digest`). The server answers those journals only if its own states
    # differ, with their state vectors (DEFERRED); empty: no such claim, nothing answered.
    quiet: bytes = b""
    client_version: str = ""  # the laptop's release, for the server's logs and pages


def quiet_digest(states: Iterable[tuple[str, bytes]]) -> bytes:
    """8 bytes naming a set of (journal id, server state vector); the same set of states
    gives the same digest whatever order the state vectors list their clients in."""
    digest = hashlib.sha256()
    for journal_id, sv in sorted(states):
        digest.update(journal_id.encode() + b"\0" + encode_state_vector(decode_state_vector(sv)))
        digest.update(b"\0")
    return digest.digest()[:8]


class JournalReply(msgspec.Struct, frozen=True, kw_only=True):
    journal_id: str
    outcome: Outcome
    state_vector: bytes = b""  # the server's, after applying the push
    update: bytes = b""  # what the client lacks (the whole document when REFUSED)
    rule: str = ""
    message_ru: str = ""
    event_ids: tuple[str, ...] = ()  # the events a REFUSED answer blames, when known


class SyncResponse(msgspec.Struct, frozen=True, kw_only=True, tag="sync_reply"):
    protocol: int = PROTOCOL_VERSION
    journals: tuple[JournalReply, ...] = ()
    server_time_ms: int = 0
    # The client release this server expects (its own): a laptop with an older one shows
    # «доступно обновление» and installs it from the server's /install page or a stick.
    client_version: str = ""


class Bundle(msgspec.Struct, frozen=True, kw_only=True, tag="bundle"):
    """A sync request or reply carried on a USB stick; `mac` proves which device made it."""

    device_id: str
    login: str
    created_ms: int
    body: bytes  # an encoded SyncRequest or SyncResponse
    mac: bytes


Message = SyncRequest | SyncResponse | Bundle

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Message)


class WireError(ValueError):
    """A body that is not a valid sync message."""


def encode(message: Message) -> bytes:
    return zlib.compress(_encoder.encode(message), 6)


class _Envelope(msgspec.Struct):
    protocol: int | None = None


_envelope_decoder = msgspec.msgpack.Decoder(_Envelope)


def peek_protocol(body: bytes) -> int | None:
    """The protocol number of a compressed message whatever else it holds; None if the body
    is not a msgpack map or names none. Lets the server tell an old laptop why it cannot
    answer."""
    try:
        raw = zlib.decompressobj().decompress(body, _inflation_limit(body))
        return _envelope_decoder.decode(raw).protocol
    except (zlib.error, msgspec.DecodeError, msgspec.ValidationError):
        return None


def _inflation_limit(body: bytes) -> int:
    """How far a body may inflate, decided before inflating: a small bomb stays small."""
    return min(MAX_INFLATED_BYTES, max(MIN_INFLATED_LIMIT, len(body) * MAX_INFLATION_RATIO))


def decode(body: bytes) -> Message:
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(body, _inflation_limit(body))
        if inflater.unconsumed_tail:
            raise WireError("тело запроса слишком велико после распаковки")
        return _decoder.decode(raw)
    except zlib.error as exc:
        raise WireError(
            "это не сообщение синхронизации журнала (файл повреждён или не тот)"
        ) from exc
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise WireError(f"неверное сообщение синхронизации: {exc}") from exc
