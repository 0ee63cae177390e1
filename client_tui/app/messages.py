"""Messages the app's parts send each other (past tense: what happened)."""

from __future__ import annotations

from textual.message import Message

from client_tui.services.sync import SyncReport


class SyncFinished(Message):
    """The background sync ended a round: `report` on success, `error` (Russian) otherwise."""

    def __init__(self, report: SyncReport | None, error: str, *, revoked: bool = False):
        """`revoked`: the server no longer takes this laptop's token (401): log in again."""
        super().__init__()
        self.report = report
        self.error = error
        self.revoked = revoked


class EntrySaved(Message):
    """Something was committed to the local store (the status bar's pending count changed)."""


class LoggedIn(Message):
    """First run done: the device is registered and the directory is on this laptop."""


class Unlocked(Message):
    """The encrypted store on this laptop opened with the password typed."""
