"""Dependency providers: a database connection per request, the config, the caller."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from server.auth.principal import Principal
from server.config import ServerConfig
from server.storage.db import connect


def provide_db(state: State) -> Iterator[sqlite3.Connection]:
    conn = connect(state.config.database)
    try:
        yield conn
    finally:
        conn.close()


def provide_config(state: State) -> ServerConfig:
    return state.config


def provide_principal(request: Request) -> Principal:
    return request.user


Db = NamedDependency[sqlite3.Connection]
Config = NamedDependency[ServerConfig]
CurrentUser = NamedDependency[Principal]
