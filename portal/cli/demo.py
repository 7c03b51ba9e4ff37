"""`portal demo`: seed two organizations, print their links and accounts, serve."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import sys
from dataclasses import asdict
from typing import Any

from portal.cli.common import with_engine
from portal.cli.serving import base_url_for, bind_socket, serve
from portal.db import unit_of_work, utcnow
from portal.demo.content import DEMO_STAFF_PASSWORD
from portal.demo.seed import (
    DEMO_ORGANIZATIONS,
    DemoLink,
    DemoStaffAccount,
    demo_staff_accounts,
    issue_demo_links,
    seed_demo_organizations,
)
from portal.settings import Settings


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(
            f"portal: port {args.port} on {args.host} is already in use (is another demo "
            "running?). Stop it, or try `portal demo --port 0` to pick a free port.",
            file=sys.stderr,
        )
        return 1
    settings = base_url_for(settings, sock, args.host)
    # A newcomer reads the guide printed below; start-up chatter only buries it.
    for name in ("alembic", "uvicorn.error", "portal.mail"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # The CSRF exemptions are an operator's start-up notice; the demo has no operator.
    logging.getLogger("portal.security.csrf").setLevel(logging.ERROR)
    from portal import migrate  # alembic says hello at import: only once it is quiet

    migrate.upgrade(settings)

    async def prepare(sessions: Any) -> list[DemoLink]:
        now = utcnow()
        async with unit_of_work(sessions) as db:
            organization_ids = await seed_demo_organizations(db, now=now)
            return await issue_demo_links(
                db, organization_ids=organization_ids, settings=settings, now=now
            )

    links = with_engine(settings, prepare)
    staff = demo_staff_accounts()

    def announce() -> None:
        if args.json:
            payload = {
                "base_url": settings.base_url,
                "candidates": [asdict(link) for link in links],
                "staff": [
                    {
                        "email": member.email,
                        "password": member.password,
                        "name": member.name,
                        "role": member.role,
                        "organization": member.organization,
                    }
                    for member in staff
                ],
            }
            sys.stdout.write(json.dumps(payload) + "\n")
        else:
            sys.stdout.write(demo_guide(settings, links, staff))
        sys.stdout.flush()

    serve(settings, sock, run_worker=settings.run_worker, on_ready=announce)
    return 0


def demo_guide(settings: Settings, links: list[DemoLink], staff: list[DemoStaffAccount]) -> str:
    """What `portal demo` prints for a person: links, addresses, accounts, what to try."""
    base = settings.base_url
    mail_dir = settings.mail_dir.rstrip("/") + "/"
    organizations = {content.name: content.kind for content in DEMO_ORGANIZATIONS}
    jobs_by_email: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for link in links:
        jobs_by_email.setdefault(link.email, []).append(link.job)
        names[link.email] = link.name
    name_width = max(len(link.name) for link in links) + 2
    job_width = max(len(link.job) for link in links) + 2

    lines = [
        "",
        f"Afterword demo running at {base}",
        f"Database: {settings.database_url}",
        "",
        "Two demo organizations: "
        + " and ".join(f"{name} ({kind})" for name, kind in organizations.items())
        + ".",
        "",
        'Candidates\' links: open one and press "Show my feedback". Each works once; '
        "restart the demo for fresh ones.",
    ]
    for organization in organizations:
        lines += ["", f"  {organization}"]
        lines += [
            f"    {link.name:<{name_width}}{link.job:<{job_width}}{link.link}"
            for link in links
            if link.organization == organization
        ]
    lines += [
        "",
        f"Candidates' email addresses, to sign in again at {base}/signin:",
    ]
    for email, jobs in jobs_by_email.items():
        both = f"   two applications: {' and '.join(jobs)}" if len(jobs) > 1 else ""
        lines.append(f"    {names[email]:<{name_width}}{email}{both}")
    lines += [
        "",
        f"Staff accounts, to sign in at {base}/staff/signin (demo only: each has the "
        f"password {DEMO_STAFF_PASSWORD}):",
    ]
    email_width = max(len(member.email) for member in staff) + 2
    for member in staff:
        lines.append(
            f"    {member.name:<{name_width}}{member.email:<{email_width}}"
            f"{member.role:<11}{member.organization}"
        )
    two = next((email for email, jobs in jobs_by_email.items() if len(jobs) > 1), None)
    lines += [
        "",
        f"Email goes to {mail_dir} as .eml files (open one in a mail program or a text "
        "editor). Each candidate's invitation email is written there, with a link of its "
        "own.",
        "",
        "Things to try:",
        "  - Open a link above and read the feedback. Open the same link again: this browser "
        "goes back to the feedback; a private window sees what a used link offers.",
        "  - Sign out, then press Back: the page is gone, and the sign-in page still wears "
        "the organization's name and colour.",
    ]
    if two is not None:
        lines.append(
            f'  - Open one of {names[two].split()[0]}\'s links, then "All your applications".'
        )
    lines += [
        f"  - Sign in at {base}/signin with an address above; the link arrives in {mail_dir}",
        f"  - Read the email a candidate gets with their link: the invitations in {mail_dir}",
        "  - Sign in as an admin above and open Settings: try a light accent colour, or set a "
        "privacy notice and see it in the candidates' footer.",
        f"  - Sign in as a recruiter at {base}/staff/signin, open Applications, pick one "
        'with no feedback, write some, try a risky phrase such as "culture fit", fix '
        "it, preview and publish: the candidate's invitation lands in the mail folder.",
        "  - Join the talent pool from a feedback page that offers it (Wei Zhang, Rafael "
        "Ortiz), then leave it from the link in the welcome email; as staff, find the pool's "
        f"members and invite them to apply at {base}/staff/pool.",
        "",
        "Press Ctrl+C to stop.",
        "",
    ]
    return "\n".join(lines) + "\n"
