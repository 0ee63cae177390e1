"""The browser tests use the same school as the page tests."""

from tests.server.web.conftest import web_config, web_template

__all__ = ["web_config", "web_template"]
