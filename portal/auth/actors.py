"""Who is asking: one typed actor per request (see portal.auth.current_actor)."""

from __future__ import annotations

from dataclasses import dataclass

from portal.staff.roles import StaffRole

__all__ = ["ANONYMOUS", "Actor", "Anonymous", "ApiKey", "Candidate", "Staff", "StaffRole"]


@dataclass(frozen=True)
class Anonymous:
    """Nobody signed in (or a session that has ended)."""


@dataclass(frozen=True)
class Candidate:
    candidate_id: int
    organization_id: int
    name: str
    session_id_hash: bytes


@dataclass(frozen=True)
class Staff:
    staff_id: int
    organization_id: int
    role: StaffRole
    name: str
    session_id_hash: bytes

    @property
    def is_admin(self) -> bool:
        return self.role == StaffRole.ADMIN


@dataclass(frozen=True)
class ApiKey:
    """An API client of one organization. Declared for the API area; nothing issues
    keys yet, so no request resolves to one."""

    key_id: int
    organization_id: int


Actor = Anonymous | Candidate | Staff | ApiKey
ANONYMOUS = Anonymous()
