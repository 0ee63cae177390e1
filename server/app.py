"""create_app(config) -> Litestar: wiring only."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig

from server.archive.controller import ArchiveController
from server.auth.controller import AuthController
from server.auth.middleware import DeviceTokenMiddleware
from server.config import ServerConfig
from server.deps import provide_config, provide_db, provide_principal
from server.directory.controller import DirectoryController
from server.errors import AppError, app_error_handler, http_error_handler
from server.storage.db import connect, create_schema
from server.sync.controller import SyncController


@get("/api/v1/health", exclude_from_auth=True)
async def health() -> dict[str, str]:
    return {"status": "ok"}


def create_app(config: ServerConfig | None = None) -> Litestar:
    config = config or ServerConfig.from_env()
    conn = connect(config.database)
    try:
        create_schema(conn)
    finally:
        conn.close()
    auth = DefineMiddleware(DeviceTokenMiddleware, exclude=["/schema", "/api/v1/health"])
    return Litestar(
        route_handlers=[
            health,
            AuthController,
            DirectoryController,
            SyncController,
            ArchiveController,
        ],
        dependencies={
            "db": Provide(provide_db),
            "config": Provide(provide_config, sync_to_thread=False),
            "principal": Provide(provide_principal, sync_to_thread=False),
        },
        middleware=[auth],
        exception_handlers={AppError: app_error_handler, HTTPException: http_error_handler},
        openapi_config=OpenAPIConfig(title="Журнал", version="0.1.0", path="/schema"),
        state=State({"config": config}),
    )
