"""The laptop's own log file (beside the store): what went wrong, with tracebacks, for whoever
looks after the laptop. People see a Russian sentence; the details go here."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOGGER = "zhurnal.laptop"
LOG_NAME = "journal.log"


def open_local_log(folder: Path) -> logging.Handler:
    """Send the laptop's log records to `folder/journal.log` (rotated at 1 MB, 3 kept).
    Returns the handler, for `close_local_log`."""
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        folder / LOG_NAME, maxBytes=1_000_000, backupCount=3, encoding="utf-8", delay=True
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    return handler


def close_local_log(handler: logging.Handler) -> None:
    logging.getLogger(LOGGER).removeHandler(handler)
    handler.close()
