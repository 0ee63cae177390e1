"""Which release of the program is running, and whether another one is newer.

Server and laptop ship from one distribution (`zhurnal`), so the server's own version is the
client version it expects; a laptop that hears of a newer one says «доступно обновление».
"""

from __future__ import annotations

import functools
import re
from importlib import metadata

DISTRIBUTION = "zhurnal"


@functools.cache
def installed_version() -> str:
    """This program's version as installed; "0" when run from a tree that was never installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0"


def version_key(text: str) -> tuple[int, ...]:
    """The numeric release parts of a version («0.2.1» → (0, 2, 1)); the rest is ignored.
    Trailing zeros are dropped so «1.0» and «1» compare equal."""
    parts = [int(p) for p in re.findall(r"\d+", text.split("+")[0].split("-")[0])[:4]]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def is_newer(candidate: str, current: str) -> bool:
    """Whether `candidate` is a later release than `current` (empty: never)."""
    return bool(candidate) and version_key(candidate) > version_key(current)
