"""`portal org create` and `portal org list`: the installation's organizations."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from portal.cli.common import for_links, log, with_engine
from portal.db import unit_of_work, utcnow
from portal.forms import validate_input
from portal.orgs import creation
from portal.orgs.forms import AdminInvitationForm, NewOrganizationForm
from portal.settings import Settings
from portal.staff import people

# Where each field of the form comes from on the command line, to name it in errors.
OPTIONS = {
    "name": "--name",
    "slug": "--slug",
    "admin_email": "--admin-email",
    "admin_name": "--admin-name",
}
SOURCE = {"source": "command line"}


@dataclass(frozen=True)
class _Created:
    organization: creation.CreatedOrganization
    invitation: people.SentInvitation


def cmd_org_create(args: argparse.Namespace, settings: Settings) -> int:
    """Create an organization and invite its first admin; exit 2 on bad input."""
    new = _new_organization(args)
    if isinstance(new, str):
        return _refuse(new)
    unset_base_url = not settings.base_url
    settings = for_links(settings, warn=False)

    async def create(sessions: Any) -> _Created:
        now = utcnow()
        async with unit_of_work(sessions) as db:
            organization = await creation.create_organization(db, new=new, now=now, source=SOURCE)
            invitation = await people.invite_first_admin(
                db,
                organization_id=organization.id,
                settings=settings,
                name=new.admin_name,
                email=new.admin_email,
                now=now,
                source=SOURCE,
            )
        return _Created(organization, invitation)

    try:
        created = with_engine(settings, create)
    except creation.SlugTaken as taken:
        return _refuse(
            f'--slug: "{taken.slug}" is already taken by another organization; '
            "choose another with --slug."
        )
    if unset_base_url:
        log.warning("PORTAL_BASE_URL is not set; the invitation link uses %s", settings.base_url)
    organization, invitation = created.organization, created.invitation
    if args.json:
        payload = {
            "organization": _as_json(organization),
            "admin": {"email": new.admin_email},
            "invitation_url": invitation.url,
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        return 0
    sys.stdout.write(
        f"Created {organization.name} (slug {organization.slug}, id {organization.id}).\n"
        f"Its first admin, {new.admin_name} <{new.admin_email}>, is invited: the email is "
        "queued (`portal worker` sends it).\n"
        f"Invitation link (works once, until {invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n"
        f"  {invitation.url}\n"
    )
    return 0


def _new_organization(args: argparse.Namespace) -> NewOrganizationForm | str:
    """The command line's values, checked; or what is wrong with the first bad one."""
    name = args.name.strip()
    slug = args.slug
    if slug is None:
        slug = creation.slug_from_name(name)
        if name and not slug:
            return (
                "--name: no slug can be made from this name (it needs a letter a-z or a "
                "digit); give one with --slug."
            )
    email = args.admin_email.strip()
    admin_name = args.admin_name
    if admin_name is None:
        admin_name = email.partition("@")[0]
    data, form = validate_input(
        NewOrganizationForm,
        {"name": args.name, "slug": slug, "admin_email": email, "admin_name": admin_name},
    )
    if data is not None:
        return data
    field = next(name for name in OPTIONS if name in form.errors)
    if field == "admin_name" and args.admin_name is None:
        # The name was made from the address: the address is what to fix.
        return (
            "--admin-name: not given, and the part of the address before the @ cannot serve "
            f"as a name: {form.errors[field]}"
        )
    return f"{OPTIONS[field]}: {form.errors[field]}"


def _as_json(organization: creation.CreatedOrganization) -> dict[str, Any]:
    return {"id": organization.id, "slug": organization.slug, "name": organization.name}


def _refuse(problem: str) -> int:
    print(f"portal: {problem}", file=sys.stderr)
    return 2


# The same fields, but the slug names an existing organization.
INVITE_OPTIONS = {**OPTIONS, "slug": "--organization"}


@dataclass(frozen=True)
class _Invited:
    organization: creation.CreatedOrganization
    invitation: people.SentInvitation
    new_account: bool


class _UnknownOrganization(LookupError):
    pass


def cmd_org_invite_admin(args: argparse.Namespace, settings: Settings) -> int:
    """A fresh invitation for an admin who has not signed in yet, or a new admin."""
    email = args.admin_email.strip()
    admin_name = args.admin_name if args.admin_name is not None else email.partition("@")[0]
    wanted, form = validate_input(
        AdminInvitationForm,
        {"slug": args.organization, "admin_email": email, "admin_name": admin_name},
    )
    if wanted is None:
        field = next(name for name in INVITE_OPTIONS if name in form.errors)
        return _refuse(f"{INVITE_OPTIONS[field]}: {form.errors[field]}")
    unset_base_url = not settings.base_url
    settings = for_links(settings, warn=False)

    async def invite(sessions: Any) -> _Invited:
        now = utcnow()
        async with unit_of_work(sessions) as db:
            organization = await creation.organization_by_slug(db, wanted.slug)
            if organization is None:
                raise _UnknownOrganization(wanted.slug)
            invitation, new_account = await people.invite_admin_again(
                db,
                organization_id=organization.id,
                settings=settings,
                email=wanted.admin_email,
                name=wanted.admin_name,
                now=now,
                source=SOURCE,
            )
        return _Invited(organization, invitation, new_account)

    try:
        invited = with_engine(settings, invite)
    except _UnknownOrganization:
        return _refuse(
            f'--organization: no organization has the slug "{wanted.slug}"; '
            "`portal org list` shows them."
        )
    except people.AlreadySignsIn:
        return _refuse(
            f"--admin-email: {wanted.admin_email} can sign in already; the organization's "
            "admins manage their colleagues at /staff/people."
        )
    except people.PersonNotFound:
        return _refuse(
            f"--admin-email: {wanted.admin_email} is a deactivated account or not an admin; "
            "the organization's admins manage their colleagues at /staff/people."
        )
    if unset_base_url:
        log.warning("PORTAL_BASE_URL is not set; the invitation link uses %s", settings.base_url)
    organization, invitation = invited.organization, invited.invitation
    if args.json:
        payload = {
            "organization": _as_json(organization),
            "admin": {"email": wanted.admin_email, "new": invited.new_account},
            "invitation_url": invitation.url,
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        return 0
    who = (
        f"A new admin of {organization.name}, {wanted.admin_name} <{wanted.admin_email}>, is"
        if invited.new_account
        else f"{wanted.admin_email} is"
    )
    sys.stdout.write(
        f"{who} invited: the email is queued (`portal worker` sends it); earlier links to "
        "this account stop working.\n"
        f"Invitation link (works once, until {invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n"
        f"  {invitation.url}\n"
    )
    return 0


def cmd_org_list(args: argparse.Namespace, settings: Settings) -> int:
    async def read(sessions: Any) -> list[creation.OrganizationSummary]:
        async with unit_of_work(sessions) as db:
            return await creation.list_organizations(db)

    organizations = with_engine(settings, read)
    if args.json:
        sys.stdout.write(json.dumps([org.as_dict() for org in organizations]) + "\n")
        return 0
    if not organizations:
        sys.stdout.write(
            "No organizations yet. Create one with: "
            "portal org create --name NAME --admin-email EMAIL\n"
        )
        return 0
    header = ("ID", "SLUG", "NAME", "STAFF", "CREATED (UTC)")
    rows = [
        (
            str(org.id),
            org.slug,
            org.name,
            str(org.staff_count),
            f"{org.created_at:%Y-%m-%d %H:%M}",
        )
        for org in organizations
    ]
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    for row in (header, *rows):
        sys.stdout.write(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            + "\n"
        )
    return 0
