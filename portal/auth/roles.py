"""What a staff member's role allows: the one test of "is an admin".

The admin area's guard (`portal.auth.areas`) asks it before any admin page runs;
services that refuse anyone else as well, in depth, ask it through `admin_only`.
"""

from __future__ import annotations

from typing import TypeGuard

from portal.auth.actors import Actor, Staff


def is_admin(actor: Actor) -> TypeGuard[Staff]:
    """Whether `actor` is an admin of their organization."""
    return isinstance(actor, Staff) and actor.is_admin


def admin_only(actor: Actor, *, refuse: Exception) -> Staff:
    """`actor`, if an admin; otherwise `refuse` is raised (a service's "not found")."""
    if is_admin(actor):
        return actor
    raise refuse
