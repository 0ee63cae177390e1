"""The real server process of the end-to-end tests, for the installed app to talk to."""

from tests.e2e.conftest import live_server, school_db

__all__ = ["live_server", "school_db"]
