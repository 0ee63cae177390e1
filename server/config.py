"""Server settings, from arguments or the environment."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec


class ServerConfig(msgspec.Struct, frozen=True, kw_only=True):
    database: Path = Path("var/zhurnal.sqlite")
    reply_budget_bytes: int = 256 * 1024
    squash_after_updates: int = 64
    login_max_failures: int = 5
    login_lock_seconds: int = 15 * 60
    # failed logins from one client address (API and pages together) before it must wait
    login_address_failures: int = 20
    login_address_window_seconds: int = 10 * 60
    # reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed
    # (ZHURNAL_TRUSTED_PROXIES, comma-separated addresses); nobody else's are
    trusted_proxies: tuple[str, ...] = ()
    # an event stamped further ahead of the server's clock is refused (the laptop's clock is
    # wrong): a stamp from the future would win every conflict until that moment
    max_clock_ahead_seconds: int = 10 * 60
    # the archive folder (the chain of years) and the school's signing key; by default beside
    # the database, where `journal-server archive-key init` puts the key
    archive_dir: Path | None = None
    archive_key: Path | None = None

    # the laptops' offline bundle (`journal-server bundle-app`) that /install offers
    app_bundle_dir: Path | None = None

    @property
    def app_bundle_folder(self) -> Path:
        return self.app_bundle_dir or self.database.with_name("app-bundle")

    @property
    def archive_folder(self) -> Path:
        return self.archive_dir or self.database.with_name("archive")

    @property
    def archive_key_path(self) -> Path:
        return self.archive_key or self.database.with_name("archive-key.pem")

    # journal documents kept in memory per server process (server/sync/documents.py); a
    # year's class journal folded takes about 3-4 MB, so 256 is about 1 GB. A district server
    # with memory to spare keeps more (ZHURNAL_DOCUMENT_CACHE); a journal not kept is read
    # and folded again on its next sync.
    document_cache_journals: int = 256

    @classmethod
    def from_env(cls, **overrides: object) -> ServerConfig:
        env = {}
        if "ZHURNAL_DB" in os.environ:
            env["database"] = Path(os.environ["ZHURNAL_DB"])
        if "ZHURNAL_ARCHIVE" in os.environ:
            env["archive_dir"] = Path(os.environ["ZHURNAL_ARCHIVE"])
        if "ZHURNAL_ARCHIVE_KEY" in os.environ:
            env["archive_key"] = Path(os.environ["ZHURNAL_ARCHIVE_KEY"])
        if "ZHURNAL_APP_BUNDLE" in os.environ:
            env["app_bundle_dir"] = Path(os.environ["ZHURNAL_APP_BUNDLE"])

        if os.environ.get("ZHURNAL_TRUSTED_PROXIES"):
            proxies = os.environ["ZHURNAL_TRUSTED_PROXIES"].split(",")
            env["trusted_proxies"] = tuple(p.strip() for p in proxies if p.strip())
        if "ZHURNAL_MAX_CLOCK_AHEAD" in os.environ:  # benches that live through a year ahead
            env["max_clock_ahead_seconds"] = int(os.environ["ZHURNAL_MAX_CLOCK_AHEAD"])
        if "ZHURNAL_DOCUMENT_CACHE" in os.environ:
            env["document_cache_journals"] = int(os.environ["ZHURNAL_DOCUMENT_CACHE"])
        return cls(**(env | overrides))
