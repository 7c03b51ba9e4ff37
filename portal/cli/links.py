"""`portal links` and `portal mail`: candidates' links and the outbox."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from portal.access.service import (
    UnknownApplication,
    issue_invitation_link,
    link_url,
    send_invitation,
)
from portal.cli.common import for_links, with_engine
from portal.db import unit_of_work, utcnow
from portal.mail import service as mail
from portal.settings import Settings


def cmd_links_issue(args: argparse.Namespace, settings: Settings) -> int:
    settings = for_links(settings)

    async def issue(sessions: Any) -> str:
        async with unit_of_work(sessions) as db:
            return await issue_invitation_link(db, application_id=args.application, now=utcnow())

    try:
        token = with_engine(settings, issue)
    except UnknownApplication:
        print(f"portal: no application with id {args.application}", file=sys.stderr)
        return 1
    print(link_url(settings, token))
    return 0


def cmd_links_send(args: argparse.Namespace, settings: Settings) -> int:
    settings = for_links(settings)

    async def send(sessions: Any) -> str:
        async with unit_of_work(sessions) as db:
            return await send_invitation(
                db, application_id=args.application, settings=settings, now=utcnow()
            )

    try:
        with_engine(settings, send)
    except UnknownApplication:
        print(f"portal: no application with id {args.application}", file=sys.stderr)
        return 1
    print(f"invitation email queued for application {args.application}")
    return 0


def cmd_mail_status(args: argparse.Namespace, settings: Settings) -> int:
    async def status(sessions: Any) -> mail.OutboxStatus:
        async with unit_of_work(sessions) as db:
            return await mail.outbox_status(db)

    result = with_engine(settings, status)
    print("  ".join(f"{state}: {count}" for state, count in result.counts.items()))
    if result.recent_errors:
        print("\nlast errors:")
        for email_id, to_address, attempts, error in result.recent_errors:
            print(f"  #{email_id} to {to_address} after {attempts} attempt(s): {error}")
    return 0


def cmd_mail_retry(args: argparse.Namespace, settings: Settings) -> int:
    if (args.id is None) == (not args.failed):
        print("portal: give an email ID or --failed", file=sys.stderr)
        return 2

    async def retry(sessions: Any) -> int:
        async with unit_of_work(sessions) as db:
            return await mail.requeue(db, now=utcnow(), email_id=args.id, failed=args.failed)

    count = with_engine(settings, retry)
    print(f"requeued {count} email(s)")
    return 0 if count or args.failed else 1
