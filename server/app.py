"""create_app(config) -> Litestar: wiring only."""

from __future__ import annotations

import contextlib

from litestar import Litestar, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig

from server.archive import schedule
from server.archive.controller import ArchiveController
from server.attachments.controller import AttachmentController
from server.auth.controller import AuthController
from server.auth.middleware import DeviceTokenMiddleware
from server.config import ServerConfig
from server.deps import provide_config, provide_db, provide_principal
from server.directory.controller import DirectoryController
from server.errors import AppError, app_error_handler, http_error_handler
from server.install.controller import InstallController
from server.openapi_errors import document_errors
from server.security_headers import add_security_headers
from server.storage import directory as directory_storage
from server.storage.db import connect
from server.storage.engine import engine_for
from server.storage.migrations import open_current
from server.sync.controller import SyncController
from server.sync.directory_cache import DirectoryCache
from server.sync.documents import DocumentCache
from server.web.compress import GzipPages
from server.web.render import html_error, template_config
from server.web.routes import WEB_HANDLERS


@get("/api/v1/health", exclude_from_auth=True)
async def health() -> dict[str, str]:
    return {"status": "ok"}


def warm_directory(app: Litestar) -> None:
    """Read the directory before the first request: a server restarted in the morning would
    otherwise make the first teachers wait for it (district bench: seconds at the start)."""
    conn = connect(app.state.config.database)
    try:
        for school_id in directory_storage.schools_with_years(conn):
            app.state.directories.load(conn, school_id=school_id)
    finally:
        conn.close()


def hold_database(app: Litestar) -> None:
    """Say, for as long as this process serves, that a server runs on the database: a restore
    or an upgrade refuses to start under it (server/storage/engine.py)."""
    stack = contextlib.ExitStack()
    stack.enter_context(engine_for(app.state.config.database).serving())
    app.state.serving = stack


def release_database(app: Litestar) -> None:
    app.state.serving.close()


def create_app(config: ServerConfig | None = None) -> Litestar:
    config = config or ServerConfig.from_env()
    conn = connect(config.database)
    try:
        open_current(conn)  # refuses a database newer than the program, or not upgraded
    finally:
        conn.close()
    auth = DefineMiddleware(DeviceTokenMiddleware, exclude=["/schema", "/api/v1/health"])
    # Pages for people: a session cookie instead of a device token, HTML errors instead of JSON.
    web = Router(
        path="/",
        route_handlers=[*WEB_HANDLERS, InstallController],
        opt={"exclude_from_auth": True},
        exception_handlers={AppError: html_error, HTTPException: html_error},
        include_in_schema=False,
        middleware=[GzipPages],  # text only: evening 3G (server/web/compress.py)
    )
    return Litestar(
        route_handlers=[
            health,
            AuthController,
            DirectoryController,
            SyncController,
            ArchiveController,
            AttachmentController,
            web,
        ],
        template_config=template_config(),
        dependencies={
            "db": Provide(provide_db),
            "config": Provide(provide_config, sync_to_thread=False),
            "principal": Provide(provide_principal, sync_to_thread=False),
        },
        middleware=[auth],
        before_send=[add_security_headers],
        exception_handlers={AppError: app_error_handler, HTTPException: http_error_handler},
        openapi_config=OpenAPIConfig(title="Журнал", version="0.1.0", path="/schema"),
        on_startup=[hold_database, warm_directory, document_errors, schedule.start_with_server],
        on_shutdown=[schedule.stop_with_server, release_database],
        # per server process: the journal documents (server/sync/documents.py), the directory
        # (server/sync/directory_cache.py)
        state=State(
            {
                "config": config,
                "documents": DocumentCache(config.document_cache_journals),
                "directories": DirectoryCache(),
            }
        ),
    )
