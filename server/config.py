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

    @classmethod
    def from_env(cls, **overrides: object) -> ServerConfig:
        env = {}
        if "ZHURNAL_DB" in os.environ:
            env["database"] = Path(os.environ["ZHURNAL_DB"])
        return cls(**(env | overrides))
