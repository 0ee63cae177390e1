"""The school's archive key: Ed25519, made once, kept as a PEM file beside the database.

The private key signs each archive package; the public key (a small PEM file, and its
fingerprint printed on every package) is handed to whoever must check the archive later — the
district, the school's auditors — and is all `journal-archive verify` needs. Only the
cryptography package is imported here, so the offline verifier stays free of server code.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PASSWORD_ENV = "ZHURNAL_ARCHIVE_KEY_PASSWORD"


class ArchiveKeyError(Exception):
    """A key file that is missing, unreadable or not an Ed25519 key; `message_ru` for people."""

    def __init__(self, message_ru: str):
        super().__init__(message_ru)
        self.message_ru = message_ru


def fingerprint(public: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex, in groups of four: short enough to read aloud."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()
    return ":".join(digest[i : i + 4] for i in range(0, 32, 4))


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def generate(private_path: Path, *, password: bytes | None = None) -> Ed25519PrivateKey:
    """Make a new key; refuses to overwrite one (a lost key cannot sign the next year)."""
    if private_path.exists():
        raise ArchiveKeyError(f"Ключ архива уже есть: {private_path}. Новый ключ не создан.")
    key = Ed25519PrivateKey.generate()
    password = password if password is not None else _env_password()
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    private_path.with_name(private_path.name + ".pub").write_bytes(public_pem(key.public_key()))
    return key


def _env_password() -> bytes | None:
    value = os.environ.get(PASSWORD_ENV)
    return value.encode() if value else None


def load_private(path: Path, *, password: bytes | None = None) -> Ed25519PrivateKey:
    if not path.is_file():
        raise ArchiveKeyError(
            f"Нет ключа архива {path}: создайте его командой journal-server archive-key init."
        )
    try:
        secret = password if password is not None else _env_password()
        key = serialization.load_pem_private_key(path.read_bytes(), password=secret or None)
    except (ValueError, TypeError) as exc:
        raise ArchiveKeyError(
            f"Ключ архива {path} не читается (повреждён или нужен пароль в {PASSWORD_ENV})."
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ArchiveKeyError(f"{path}: это не ключ Ed25519.")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError as exc:
        raise ArchiveKeyError(f"Нет файла открытого ключа: {path}") from exc
    except ValueError as exc:
        raise ArchiveKeyError(f"{path}: это не открытый ключ в формате PEM.") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ArchiveKeyError(f"{path}: это не ключ Ed25519.")
    return key


# ------------------------------------------------------------------ detached signatures

SIGNATURE_HEADER = "Подпись архивного пакета (Ed25519)"


def sign_file(key: Ed25519PrivateKey, signed_name: str, content: bytes) -> str:
    """The text of a detached signature file: what was signed, by which key, the signature."""
    signature = base64.b64encode(key.sign(content)).decode()
    return (
        f"{SIGNATURE_HEADER}\n"
        f"Файл: {signed_name}\n"
        f"Отпечаток ключа: {fingerprint(key.public_key())}\n"
        f"Подпись: {signature}\n"
    )


def read_signature(text: str) -> dict[str, str]:
    """Parse a signature file into {Файл, Отпечаток ключа, Подпись}; ValueError if malformed."""
    lines = text.splitlines()
    if not lines or lines[0] != SIGNATURE_HEADER:
        raise ValueError("not a signature file")
    fields = {}
    for line in lines[1:]:
        name, sep, value = line.partition(": ")
        if not sep:
            raise ValueError(f"bad line {line!r}")
        fields[name] = value
    if not {"Файл", "Отпечаток ключа", "Подпись"} <= fields.keys():
        raise ValueError("missing fields")
    return fields


def verify_signature(public: Ed25519PublicKey, signature_b64: str, content: bytes) -> bool:
    try:
        public.verify(base64.b64decode(signature_b64, validate=True), content)
    except (InvalidSignature, ValueError):
        return False
    return True


def school_key_path(default: Path, school_id: str) -> Path:
    """The school's own key (`archive-key-<school>.pem`) where a server holds several schools
    that sign apart; otherwise the server's one key."""
    own = default.with_name(f"{default.stem}-{school_id}{default.suffix}")
    return own if own.exists() else default
