"""The bottom line: is the server reachable, what waits to be sent, when the last sync was."""

from __future__ import annotations

import time
from enum import Enum

import msgspec
from textual.widgets import Static

from client_tui.services.session import Status


class Connection(Enum):
    UNKNOWN = "связь: проверяется"
    SYNCING = "связь: синхронизация…"
    ONLINE = "связь: есть"
    OFFLINE = "связь: НЕТ"


class StatusInfo(msgspec.Struct, frozen=True, kw_only=True):
    connection: Connection = Connection.UNKNOWN
    pending: int = 0
    refused: int = 0
    conflicts: int = 0
    last_sync_ok_at: float | None = None
    login: str = ""
    update_version: str = ""
    fault: str = ""  # the last round failed on a bug (its Russian message), not on the link

    @classmethod
    def from_status(cls, status: Status, connection: Connection, fault: str = "") -> StatusInfo:
        return cls(
            fault=fault,
            connection=connection,
            pending=status.pending,
            refused=status.refused,
            conflicts=status.conflicts,
            last_sync_ok_at=status.last_sync_ok_at,
            login=status.login,
            update_version=status.update_version,
        )

    @property
    def text(self) -> str:
        last = (
            time.strftime("%d.%m %H:%M", time.localtime(self.last_sync_ok_at))
            if self.last_sync_ok_at
            else "никогда"
        )
        parts = [
            self.connection.value,
            f"ждут отправки: {self.pending}",
            f"синхр.: {last}",
            f"конфликтов: {self.conflicts}",
        ]
        if self.refused:
            parts.append(f"отклонено: {self.refused}")
        if self.update_version:
            parts.append("доступно обновление")
        if self.fault:
            parts.append(self.fault)
        return " │ ".join(parts)


class StatusBar(Static):
    """Follows the app's `status`; text, not colour, carries the meaning (monochrome)."""

    def on_mount(self) -> None:
        self.watch(self.app, "status", self._show, init=True)

    def _show(self, info: StatusInfo) -> None:
        self.update(info.text)
        self.set_class(info.connection is Connection.OFFLINE, "offline")
        self.set_class(bool(info.conflicts or info.refused), "attention")
