"""Login, logout and devices."""

from __future__ import annotations

from typing import ClassVar

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from server.auth import service
from server.auth.client import client_address
from server.auth.guards import requires_any_user
from server.auth.principal import Principal
from server.deps import Config, CurrentUser, Db
from server.storage.accounts import DeviceRow


class LoginRequest(msgspec.Struct, frozen=True, kw_only=True):
    login: str = msgspec.field(default="")
    password: str = ""
    device_name: str = "устройство"
    # a laptop logging in again asks for its own device record back with the token it held
    device_id: str = ""
    device_token: str = ""


class AuthController(Controller):
    path = "/api/v1"
    tags: ClassVar[list[str]] = ["auth"]

    @post("/auth/login", exclude_from_auth=True, sync_to_thread=True, status_code=200)
    def login(
        self, request: Request, data: JSONBody[LoginRequest], db: Db, config: Config
    ) -> service.DeviceToken:
        """Check login and password; register this device and return its token (once)."""
        return service.login(
            db,
            config,
            login=data.login.strip(),
            password=data.password,
            device_name=data.device_name,
            address=client_address(request, config),
            device_id=data.device_id,
            device_token=data.device_token,
        )

    @post("/auth/logout", guards=[requires_any_user], sync_to_thread=True, status_code=200)
    def logout(self, db: Db, principal: CurrentUser) -> dict[str, str]:
        """Revoke the calling device's token."""
        service.revoke(db, principal, principal.device_id)
        return {"message": "Устройство отключено."}

    @get("/me", guards=[requires_any_user], sync_to_thread=True)
    def me(self, principal: CurrentUser) -> Principal:
        return principal

    @get("/devices", guards=[requires_any_user], sync_to_thread=True)
    def devices(self, db: Db, principal: CurrentUser) -> list[DeviceRow]:
        """One's own devices; a system administrator sees all."""
        return service.list_devices(db, principal)

    @post(
        "/devices/{device_id:str}/revoke",
        guards=[requires_any_user],
        sync_to_thread=True,
        status_code=200,
    )
    def revoke(self, device_id: FromPath[str], db: Db, principal: CurrentUser) -> dict[str, str]:
        """Cut a lost laptop off: its token stops working at once."""
        service.revoke(db, principal, device_id)
        return {"message": "Устройство отключено."}
