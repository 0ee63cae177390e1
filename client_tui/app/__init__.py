"""The teacher's Textual app. Screens call client_tui.services only: no SQL, no HTTP here."""

from client_tui.app.app import JournalApp

__all__ = ["JournalApp"]
