"""Who is asking: one typed actor per request, and what a staff member's role allows.

Plain values that every part of the portal may read (the foundation): `portal.auth`
resolves them from the session once per request, the area guards let them in,
and services scope what they read to them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeGuard

from portal.formats import DEFAULT_TIME_ZONE

__all__ = [
    "ANONYMOUS",
    "Actor",
    "Anonymous",
    "ApiKey",
    "Candidate",
    "Staff",
    "StaffRole",
    "admin_only",
    "is_admin",
]


class StaffRole(enum.StrEnum):
    """A staff member's role: what the actor carries and `staff_users.role` holds."""

    ADMIN = "admin"  # a recruiter who also runs the organization's settings and staff
    RECRUITER = "recruiter"


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
    # The tz database name they read times in: their own choice, or their organization's.
    time_zone: str = DEFAULT_TIME_ZONE

    @property
    def is_admin(self) -> bool:
        return self.role == StaffRole.ADMIN


@dataclass(frozen=True)
class ApiKey:
    """An API client of one organization: the key it authenticated with (the API
    area's guard resolves it from `Authorization: Bearer <key>`, never from a
    cookie) and what the key may do (`portal.api.models.ApiScope` values)."""

    key_id: int
    organization_id: int
    scopes: frozenset[str] = frozenset()


Actor = Anonymous | Candidate | Staff | ApiKey
ANONYMOUS = Anonymous()


def is_admin(actor: Actor) -> TypeGuard[Staff]:
    """Whether `actor` is an admin of their organization: the one test of it. The
    admin area's guard (`portal.auth.areas`) asks it before any admin page runs;
    services that refuse anyone else as well, in depth, ask it through `admin_only`."""
    return isinstance(actor, Staff) and actor.is_admin


def admin_only(actor: Actor, *, refuse: Exception) -> Staff:
    """`actor`, if an admin; otherwise `refuse` is raised (a service's "not found")."""
    if is_admin(actor):
        return actor
    raise refuse
