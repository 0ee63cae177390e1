"""Who is calling: the account behind a device token."""

from __future__ import annotations

import msgspec

from shared.model import ADMINISTRATION, STAFF_ROLES, Role


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    login: str
    role: Role  # the account's role
    roles: tuple[Role, ...]  # every role the person holds (a director who also teaches)
    person_id: str
    device_id: str
    # the school whose directory this person sees (server/storage/directory.py school_of);
    # None outside any school: the district office, or a person not yet in the directory
    school_id: str | None = None

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_staff(self) -> bool:
        return any(r in STAFF_ROLES for r in self.roles)

    @property
    def is_administration(self) -> bool:
        return any(r in ADMINISTRATION for r in self.roles)
