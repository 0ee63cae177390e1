"""Bearer device tokens: every API call but login and health names its device."""

from __future__ import annotations

import anyio
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from server.auth.principal import Principal
from server.auth.service import authenticate
from server.errors import Unauthorized
from server.storage.db import connect


class DeviceTokenMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Требуется вход в систему: нет токена устройства.")

        def lookup() -> Principal | None:
            conn = connect(connection.app.state.config.database)
            try:
                return authenticate(conn, token.strip())
            finally:
                conn.close()

        # in a worker thread: the lookup may wait for the database's write lock (it notes the
        # device's last visit), which must not stop the event loop serving everyone else
        principal = await anyio.to_thread.run_sync(lookup)
        if principal is None:
            raise Unauthorized(
                "Токен устройства недействителен или отозван (например, после смены пароля). "
                "Войдите заново с паролем: записи на этом компьютере сохранены."
            )
        return AuthenticationResult(user=principal, auth=token)
