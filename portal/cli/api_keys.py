"""`portal api-key create`, `list` and `revoke`: an organization's keys for /api/v1."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from portal.api import keys
from portal.api.forms import NewKeyForm
from portal.cli.common import with_engine
from portal.db import unit_of_work, utcnow
from portal.forms import validate_input
from portal.orgs import creation
from portal.settings import Settings

SOURCE = {"source": "command line"}


class _UnknownOrganization(LookupError):
    pass


def _refuse(problem: str) -> int:
    print(f"portal: {problem}", file=sys.stderr)
    return 2


async def _organization_id(db: Any, slug: str) -> int:
    organization = await creation.organization_by_slug(db, slug)
    if organization is None:
        raise _UnknownOrganization(slug)
    return int(organization.id)


def _unknown(slug: str) -> int:
    return _refuse(f'--organization: no organization "{slug}" (`portal org list` shows the slugs).')


def cmd_api_key_create(args: argparse.Namespace, settings: Settings) -> int:
    """Create a key and print it once; exit 2 on bad input or an unknown organization."""
    scopes = args.scope or ["applications:write", "applications:read"]
    data, form = validate_input(NewKeyForm, {"name": args.name, "scopes": " ".join(scopes)})
    if data is None:
        field = next(iter(form.errors))
        option = "--scope" if field == "scopes" else "--name"
        return _refuse(f"{option}: {form.errors[field]}")

    async def create(sessions: Any) -> keys.IssuedKey:
        async with unit_of_work(sessions) as db:
            organization_id = await _organization_id(db, args.organization)
            return await keys.issue_key(
                db,
                organization_id=organization_id,
                name=data.name,
                scopes=data.scopes.split(),
                staff=None,
                now=utcnow(),
                source=SOURCE,
            )

    try:
        issued = with_engine(settings, create)
    except _UnknownOrganization:
        return _unknown(args.organization)
    if args.json:
        payload = {
            "id": issued.id,
            "name": issued.name,
            "prefix": issued.prefix,
            "scopes": list(issued.scopes),
            "key": issued.key,
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        return 0
    sys.stdout.write(
        f"Created the API key {issued.name!r} (id {issued.id}) for {args.organization}; "
        f"it may: {', '.join(issued.scopes)}.\n"
        "The key, shown only this once (Afterword keeps no copy it could show again):\n"
        f"  {issued.key}\n"
        "Send it as: Authorization: Bearer <key>\n"
    )
    return 0


def cmd_api_key_list(args: argparse.Namespace, settings: Settings) -> int:
    async def read(sessions: Any) -> list[keys.ListedKey]:
        async with unit_of_work(sessions) as db:
            organization_id = await _organization_id(db, args.organization)
            return await keys.list_keys(db, organization_id=organization_id)

    try:
        listed = with_engine(settings, read)
    except _UnknownOrganization:
        return _unknown(args.organization)
    if args.json:
        rows = [
            {
                "id": key.id,
                "name": key.name,
                "prefix": key.prefix,
                "scopes": list(key.scopes),
                "created_at": key.created_at.isoformat(),
                "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
                "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
            }
            for key in listed
        ]
        sys.stdout.write(json.dumps(rows) + "\n")
        return 0
    if not listed:
        sys.stdout.write(
            "No API keys yet. Create one with: "
            f"portal api-key create --organization {args.organization} --name NAME\n"
        )
        return 0
    for key in listed:
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        sys.stdout.write(
            f"{key.id}  {key.prefix}…  {key.name}  [{' '.join(key.scopes)}]  "
            f"created {key.created_at:%Y-%m-%d %H:%M}  last used {used}  {state}\n"
        )
    return 0


def cmd_api_key_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def revoke(sessions: Any) -> bool:
        async with unit_of_work(sessions) as db:
            organization_id = await _organization_id(db, args.organization)
            return await keys.revoke_key(
                db,
                organization_id=organization_id,
                key_id=args.id,
                staff=None,
                now=utcnow(),
                source=SOURCE,
            )

    try:
        revoked = with_engine(settings, revoke)
    except _UnknownOrganization:
        return _unknown(args.organization)
    except keys.KeyNotFound:
        return _refuse(f"--id: {args.organization} has no API key {args.id}.")
    sys.stdout.write(
        f"Revoked API key {args.id}.\n" if revoked else f"API key {args.id} was revoked already.\n"
    )
    return 0
