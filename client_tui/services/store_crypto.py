"""The local store's encryption at rest (152-ФЗ: a stolen or lent laptop reveals nothing).

Pages are encrypted SQLCipher-compatibly (AES-256, HMAC-SHA512 per page, SQLCipher 4 layout)
by SQLite3 Multiple Ciphers, shipped inside the `apsw-sqlite3mc` wheel (Linux and Windows
x86-64, no compiler, no system SQLite touched). No home-made crypto: the raw 256-bit key comes
from Argon2id (argon2-cffi) over the teacher's password and a random per-store salt, kept in
clear beside the store (`store.kdf.json`, with the KDF's costs) so it unlocks offline.

A plain store from an earlier release is encrypted on its first unlock: an encrypted copy is
written beside it, its rows are counted against the plain file, it atomically replaces the
store, and the plain file (a hard link taken first) goes only after the encrypted store opened
and counted the same. A kill at any point leaves either the plain store or the verified
encrypted one (tests/client_tui/test_store_encryption.py kills a child at each step).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

import apsw
import msgspec
from argon2.low_level import Type, hash_secret_raw

SQLITE_HEADER = b"SQLite format 3\x00"  # a plain SQLite file; an encrypted one starts random
KEY_BYTES = 32


class Cost(msgspec.Struct, frozen=True):
    """Argon2id costs: RFC 9106's second recommendation (64 MiB, 3 passes, 4 lanes), about
    0.1 s here and under a second on a weak school laptop. Tests lower it (tests/conftest.py);
    a store keeps the costs it was made with, so it opens whatever the default is later."""

    time_cost: int = 3
    memory_cost: int = 64 * 1024  # KiB
    parallelism: int = 4


COST = Cost()


class KdfParams(msgspec.Struct, frozen=True, kw_only=True):
    """What `store.kdf.json` holds: nothing secret, everything needed to derive the key."""

    version: int = 1
    kdf: str = "argon2id"
    salt: str  # hex, 16 random bytes
    time_cost: int
    memory_cost: int
    parallelism: int
    cipher: str = "sqlcipher"
    legacy: int = 4  # SQLCipher 4's page layout and HMAC


class StoreError(Exception):
    """A store that cannot be opened; `message_ru` is what the teacher reads."""

    message_ru = "Журнал на этом компьютере не открыт."

    def __init__(self, message_ru: str | None = None):
        if message_ru is not None:
            self.message_ru = message_ru
        super().__init__(self.message_ru)


class WrongPassword(StoreError):
    message_ru = (
        "Пароль не подходит к журналу на этом компьютере. Введите пароль, с которым вы "
        "последний раз входили в журнал на этом компьютере."
    )


class StoreDamaged(StoreError):
    pass


class StoreLocked(StoreError):
    message_ru = "Журнал на этом компьютере зашифрован: сначала введите пароль."


Step = Callable[[str], None]


def _no_step(_: str) -> None:
    pass


# ---------------------------------------------------------------------- files beside the store


def params_path(store: Path) -> Path:
    return store.with_name(store.stem + ".kdf.json")


def pending_params_path(store: Path) -> Path:
    """The parameters of a re-key in progress: written before the re-key, promoted after."""
    return store.with_name(store.stem + ".kdf.json.new")


def plain_copy_path(store: Path) -> Path:
    return store.with_name(store.name + ".plain")


def building_path(store: Path) -> Path:
    return store.with_name(store.name + ".encrypting")


def is_plain(store: Path) -> bool:
    try:
        with open(store, "rb") as f:
            return f.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except FileNotFoundError:
        return False


def exists(store: Path) -> bool:
    """A store to unlock: the file, or a plain one half-way through its encryption."""
    return store.exists() or plain_copy_path(store).exists()


def check_recognised(path: Path) -> None:
    """Before asking a password: a file that is neither a plain store nor one with its key
    parameters beside it is damaged (or not ours), whatever password comes."""
    if not path.exists() or is_plain(path) or plain_copy_path(path).exists():
        return
    if read_params(params_path(path)) is None and read_params(pending_params_path(path)) is None:
        raise StoreDamaged(
            f"Файл журнала не распознан: {path} (он не зашифрован журналом и не похож на "
            "журнал прежней версии, а файла с параметрами ключа рядом нет). Записи не "
            "изменены; обратитесь к тому, кто обслуживает компьютер."
        )


def new_params() -> KdfParams:
    return KdfParams(
        salt=secrets.token_hex(16),
        time_cost=COST.time_cost,
        memory_cost=COST.memory_cost,
        parallelism=COST.parallelism,
    )


def read_params(path: Path) -> KdfParams | None:
    try:
        return msgspec.json.decode(path.read_bytes(), type=KdfParams)
    except FileNotFoundError:
        return None
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise StoreDamaged(
            f"Файл параметров ключа журнала повреждён: {path}. Записи не изменены; "
            "обратитесь к тому, кто обслуживает компьютер."
        ) from None


def write_params(path: Path, params: KdfParams) -> None:
    write_durably(path, msgspec.json.format(msgspec.json.encode(params)))


def derive_key(password: str, params: KdfParams) -> bytes:
    if params.kdf != "argon2id":
        raise StoreDamaged(f"Неизвестный способ получения ключа журнала: {params.kdf}.")
    return hash_secret_raw(
        password.encode("utf-8"),
        bytes.fromhex(params.salt),
        time_cost=params.time_cost,
        memory_cost=params.memory_cost,
        parallelism=params.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


# ---------------------------------------------------------------------- connections


def connect(path: Path, key: bytes, params: KdfParams) -> apsw.Connection:
    """An encrypted connection (made when the file is new), or WrongPassword."""
    conn = apsw.Connection(str(path))
    try:
        _key(conn, key, params)
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchall()
    except apsw.NotADBError:
        conn.close()
        raise WrongPassword() from None
    except BaseException:
        conn.close()
        raise
    return conn


def _key(conn: apsw.Connection, key: bytes, params: KdfParams) -> None:
    # the cipher is chosen per connection before the key: sqlite3mc's default is ChaCha20
    conn.pragma("cipher", params.cipher)
    conn.pragma("legacy", params.legacy)
    conn.execute(f"PRAGMA key = {_raw(key)}")


def _raw(key: bytes) -> str:
    """SQLCipher's raw-key literal: the bytes are the key, no PBKDF2 on top of Argon2id (the
    form `hexkey` would run 256,000 PBKDF2 rounds over them at every open). Stock SQLCipher 4
    opens the store with the same `PRAGMA key = "x'…'"`."""
    return f"\"x'{key.hex()}'\""


def rekey(conn: apsw.Connection, key: bytes) -> None:
    """Re-encrypt every page under `key`, in one transaction of SQLite's own."""
    conn.execute(f"PRAGMA rekey = {_raw(key)}")


def _tables(conn: apsw.Connection, schema: str = "main") -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            f"SELECT name FROM {schema}.sqlite_schema WHERE type = 'table' ORDER BY name"
        )
    ]


def row_counts(conn: apsw.Connection, schema: str = "main") -> dict[str, int]:
    """Rows per table (SQLite's own tables left out): the check that a copy is whole."""
    return {
        t: conn.execute(f'SELECT count(*) FROM {schema}."{t}"').fetchone()[0]
        for t in _tables(conn, schema)
        if not t.startswith("sqlite_")
    }


# ---------------------------------------------------------------------- unlocking


def unlock(path: Path, password: str, *, step: Step = _no_step) -> tuple[apsw.Connection, bytes]:
    """Open the store at `path` with the teacher's password: a new one is made encrypted, a
    plain one from an earlier release is encrypted first, an interrupted encryption or re-key
    is finished. Returns the connection and the key (for a later re-key check)."""
    building = building_path(path)
    _remove(building, Path(f"{building}-journal"))  # a copy cut short: the store is intact
    plain_copy = plain_copy_path(path)
    if not path.exists() and plain_copy.exists():
        os.replace(plain_copy, path)  # cannot happen with a hard link; a copy fallback could
    if is_plain(path):
        params = read_params(params_path(path)) or new_params()
        write_params(params_path(path), params)
        key = derive_key(password, params)
        _encrypt_plain(path, key, params, step)
        return _finish(path, key, params, step)
    if not path.exists():
        params = new_params()
        write_params(params_path(path), params)
        return _finish(path, derive_key(password, params), params, step)
    check_recognised(path)
    params = read_params(params_path(path))
    pending = read_params(pending_params_path(path))
    for candidate in [p for p in (params, pending) if p is not None]:
        key = derive_key(password, candidate)
        try:
            conn, key = _finish(path, key, candidate, step)
        except WrongPassword:
            continue
        if candidate is pending:  # the re-key reached the file; its parameters now hold
            os.replace(pending_params_path(path), params_path(path))
        else:
            _remove(pending_params_path(path))
        return conn, key
    raise WrongPassword()


def _finish(path: Path, key: bytes, params: KdfParams, step: Step) -> tuple[apsw.Connection, bytes]:
    conn = connect(path, key, params)
    plain_copy = plain_copy_path(path)
    if plain_copy.exists():  # an encryption that replaced the store: check it, then let go
        expected = _plain_counts(plain_copy)
        if row_counts(conn) != expected:
            conn.close()
            raise StoreDamaged(
                f"Зашифрованная копия журнала не совпала с прежней ({plain_copy}); "
                "прежний файл сохранён. Обратитесь к тому, кто обслуживает компьютер."
            )
        plain_copy.unlink()
        _fsync_dir(path.parent)
        step("done")
    return conn, key


def _plain_counts(path: Path) -> dict[str, int]:
    conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        return row_counts(conn)
    finally:
        conn.close()


def _encrypt_plain(path: Path, key: bytes, params: KdfParams, step: Step) -> None:
    """Write the encrypted copy beside the plain store, count, then swap it in atomically."""
    step("start")
    plain = apsw.Connection(str(path))
    try:
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        plain.pragma("journal_mode", "delete")  # one file: no -wal left to meet the new store
        expected = row_counts(plain)
        user_version = plain.pragma("user_version")
        schema = plain.execute(
            "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index', rowid"
        ).fetchall()
    finally:
        plain.close()
    if Path(f"{path}-wal").exists() and Path(f"{path}-wal").stat().st_size:
        raise StoreDamaged(f"Журнал прежней версии не закрыт до конца: {path}-wal.")
    _remove(Path(f"{path}-wal"), Path(f"{path}-shm"))
    plain_copy = plain_copy_path(path)
    _remove(plain_copy)
    try:
        os.link(path, plain_copy)  # the plain store stays, by name, until verified
    except OSError:  # a file system without hard links (FAT on a stick)
        shutil.copy2(path, plain_copy)
        _fsync_file(plain_copy)
    _fsync_dir(path.parent)
    step("kept")
    building = building_path(path)
    enc = connect(building, key, params)
    try:
        enc.pragma("journal_mode", "delete")
        enc.execute("ATTACH DATABASE ? AS plain KEY ''", (str(plain_copy),))
        with enc:
            for kind, name, sql in schema:
                enc.execute(sql)
                if kind == "table":
                    step("copying")
                    enc.execute(f'INSERT INTO main."{name}" SELECT * FROM plain."{name}"')
            if any(name == "sqlite_sequence" for name in _tables(enc, "plain")):
                # AUTOINCREMENT's high-water marks: an id once used is never given again
                enc.execute("DELETE FROM main.sqlite_sequence")
                enc.execute("INSERT INTO main.sqlite_sequence SELECT * FROM plain.sqlite_sequence")
            enc.pragma("user_version", user_version)
        enc.execute("DETACH DATABASE plain")
        if row_counts(enc) != expected:
            raise StoreDamaged(
                f"Зашифрованная копия журнала не совпала с прежним файлом {path}; он не "
                "тронут. Обратитесь к тому, кто обслуживает компьютер."
            )
    finally:
        enc.close()
    _fsync_file(building)
    step("built")
    os.replace(building, path)
    _fsync_dir(path.parent)
    step("replaced")


# ---------------------------------------------------------------------- durable files


def write_durably(path: Path, data: bytes) -> None:
    """Whole or not at all, and on the disk: a temporary file synced, renamed over `path`."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # Windows cannot open a folder; its renames are journaled by NTFS
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
