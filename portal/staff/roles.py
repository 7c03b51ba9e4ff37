"""A staff member's role: what the actor carries and `staff_users.role` holds.

A module of its own, importing nothing of the app, so that the actor
(`portal.auth.actors`) and the table (`portal.staff.models`) share the one enum:
importing it runs no other module of either package (`portal.auth` imports the
staff table, so the enum cannot live in `portal.auth` without an import cycle)."""

from __future__ import annotations

import enum


class StaffRole(enum.StrEnum):
    ADMIN = "admin"  # a recruiter who also runs the organization's settings and staff
    RECRUITER = "recruiter"
