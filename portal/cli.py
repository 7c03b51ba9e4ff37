"""The `portal` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import logging
import os
import socket
import sys
import textwrap
from collections.abc import Callable, Coroutine
from dataclasses import asdict
from typing import Any, TypeVar

import uvicorn
from tqdm import tqdm

from portal import (
    migrate,
    models,  # noqa: F401  (every table known before the first query)
)
from portal.access.service import (
    UnknownApplication,
    issue_invitation_link,
    link_url,
    send_invitation,
)
from portal.app import create_app
from portal.db import create_engine, session_factory, unit_of_work, utcnow
from portal.demo.content import DEMO_STAFF_PASSWORD
from portal.demo.seed import (
    DEMO_ORGANIZATIONS,
    DemoLink,
    DemoStaffAccount,
    demo_staff_accounts,
    issue_demo_links,
    seed_demo_organizations,
)
from portal.feedback import check
from portal.imports import service as csv_import
from portal.jobs.worker import Worker
from portal.logs import configure_logging
from portal.mail import service as mail
from portal.server import HeadLimitedHttpToolsProtocol, bind_socket
from portal.settings import Settings, SettingsError

log = logging.getLogger("portal")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
T = TypeVar("T")


def _with_engine(settings: Settings, work: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
    """Run `work(sessions)` on a short-lived engine, outside any server."""

    async def run() -> T:
        engine = create_engine(settings, pool_size=1)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _base_url(settings: Settings, sock: socket.socket, host: str) -> Settings:
    if settings.base_url:
        return settings
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return settings.with_base_url(f"http://{shown}:{port}")


def _serve(
    settings: Settings,
    sock: socket.socket,
    *,
    run_worker: bool,
    on_ready: Callable[[], None] | None = None,
) -> None:
    app = create_app(settings, run_worker=run_worker)
    config = uvicorn.Config(
        app,
        http=HeadLimitedHttpToolsProtocol,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        server_header=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)

    async def main() -> None:
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.02)
        if server.started and on_ready is not None:
            on_ready()
        await serving

    asyncio.run(main())


# --- commands ----------------------------------------------------------------


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
    settings = _base_url(settings, sock, args.host)
    # A newcomer reads the guide printed below; start-up chatter only buries it.
    for name in ("alembic", "uvicorn.error", "portal.mail"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # The CSRF exemptions are an operator's start-up notice; the demo has no operator.
    logging.getLogger("portal.security.csrf").setLevel(logging.ERROR)
    migrate.upgrade(settings)

    async def prepare(sessions: Any) -> list[DemoLink]:
        now = utcnow()
        async with unit_of_work(sessions) as db:
            organization_ids = await seed_demo_organizations(db, now=now)
            return await issue_demo_links(
                db, organization_ids=organization_ids, settings=settings, now=now
            )

    links = _with_engine(settings, prepare)
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

    _serve(settings, sock, run_worker=settings.run_worker, on_ready=announce)
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


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    sock = bind_socket(args.host, args.port)
    settings = _base_url(settings, sock, args.host)
    log.info("serving on %s", settings.base_url)
    _serve(settings, sock, run_worker=settings.run_worker and not args.no_worker)
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    settings = (
        settings
        if settings.base_url
        else settings.with_base_url(f"http://{DEFAULT_HOST}:{DEFAULT_PORT}")
    )

    async def work(sessions: Any) -> None:
        worker = Worker(settings=settings, sessions=sessions)
        if args.once:
            done = await worker.run_once()
            log.info("worker pass done: %d item(s)", done)
        else:
            log.info("worker started")
            await worker.run_forever()

    with contextlib.suppress(KeyboardInterrupt):
        _with_engine(settings, work)
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    migrate.upgrade(settings, args.revision)
    log.info("database at %s", args.revision)
    return 0


def _for_links(settings: Settings) -> Settings:
    """Links printed or emailed from the command line need a public address."""
    if settings.base_url:
        return settings
    settings = settings.with_base_url(f"http://{DEFAULT_HOST}:{DEFAULT_PORT}")
    log.warning("PORTAL_BASE_URL is not set; links use %s", settings.base_url)
    return settings


def cmd_links_issue(args: argparse.Namespace, settings: Settings) -> int:
    settings = _for_links(settings)

    async def issue(sessions: Any) -> str:
        async with unit_of_work(sessions) as db:
            return await issue_invitation_link(db, application_id=args.application, now=utcnow())

    try:
        token = _with_engine(settings, issue)
    except UnknownApplication:
        print(f"portal: no application with id {args.application}", file=sys.stderr)
        return 1
    print(link_url(settings, token))
    return 0


def cmd_links_send(args: argparse.Namespace, settings: Settings) -> int:
    settings = _for_links(settings)

    async def send(sessions: Any) -> str:
        async with unit_of_work(sessions) as db:
            return await send_invitation(
                db, application_id=args.application, settings=settings, now=utcnow()
            )

    try:
        _with_engine(settings, send)
    except UnknownApplication:
        print(f"portal: no application with id {args.application}", file=sys.stderr)
        return 1
    print(f"invitation email queued for application {args.application}")
    return 0


def cmd_mail_status(args: argparse.Namespace, settings: Settings) -> int:
    async def status(sessions: Any) -> mail.OutboxStatus:
        async with unit_of_work(sessions) as db:
            return await mail.outbox_status(db)

    result = _with_engine(settings, status)
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

    count = _with_engine(settings, retry)
    print(f"requeued {count} email(s)")
    return 0 if count or args.failed else 1


_CHECK_DESCRIPTION = "\n\n".join(
    textwrap.fill(paragraph, width=78)
    for paragraph in (
        "Run the feedback check on one text per line (for example feedback exported from an "
        "ATS) and report what it flags, with the words and what to write instead: risky "
        "(protected characteristics and their proxies, culture fit, judgements of personality "
        "or appearance, comparisons with the person hired), vague (generic lines) and tone "
        "(absolutes, sarcasm, blame). Spans are character offsets in the line.",
        "Exit status: 0 when no line has a risky finding, 1 when at least one does, 2 on a "
        "usage error (bad arguments, unreadable or non-UTF-8 input).",
    )
)


def cmd_feedback_check(args: argparse.Namespace, settings: Settings) -> int:
    """Check one text per line; exit 1 when any line has a risky finding."""
    name = "stdin" if args.file in (None, "-") else args.file
    try:
        stream = sys.stdin.buffer if name == "stdin" else open(args.file, "rb")  # noqa: SIM115
    except OSError as exc:
        print(f"portal: cannot read {name}: {exc.strerror}", file=sys.stderr)
        return 2
    results: list[list[check.Finding]] = []
    lines: list[str] = []
    with stream:
        for number, raw in enumerate(stream, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                print(f"portal: {name} line {number} is not UTF-8 text", file=sys.stderr)
                return 2
            line = line.removesuffix("\n").removesuffix("\r")
            results.append(check.check_text(line))
            if not args.json:
                lines.append(line)
    if args.json:
        payload = [[finding.as_dict() for finding in findings] for findings in results]
        sys.stdout.write(json.dumps(payload) + "\n")
    else:
        sys.stdout.write(_check_report(lines, results))
    risky = any(check.blocks_publishing(findings) for findings in results)
    return 1 if risky else 0


def _check_report(lines: list[str], results: list[list[check.Finding]]) -> str:
    out: list[str] = []
    counts = dict.fromkeys(check.SEVERITIES, 0)
    for number, (line, findings) in enumerate(zip(lines, results, strict=True), start=1):
        for finding in findings:
            counts[finding.severity] += 1
            words = finding.words(line)
            out.append(
                f"line {number}, {finding.start}-{finding.end}: {finding.severity} "
                f'"{words}" ({finding.rule})\n    {finding.message}'
            )
    found = ", ".join(f"{count} {severity}" for severity, count in counts.items())
    out.append(f"{len(lines)} line(s) checked: {found if any(counts.values()) else 'no findings'}")
    return "\n".join(out) + "\n"


_IMPORT_DESCRIPTION = "\n\n".join(
    textwrap.fill(paragraph, width=78)
    for paragraph in (
        "Import rejections with their feedback from a CSV file (UTF-8, at most 1 GB): one row "
        "per application, with the candidate (email, name), the job (its title or number), the "
        "stage reached, the decision summary, a rating and evidence per requirement, strengths, "
        "growth areas with suggestions, next steps and a personal note. The columns are listed "
        'in the README ("Importing feedback from a CSV"); the staff import page offers a '
        "template for each job.",
        "Every row is checked first, and the feedback check runs on each; errors are reported "
        "by row (the header is row 1) and column, and nothing is written unless every row is "
        "valid. The whole file is imported in one transaction. Importing the same file again "
        "changes nothing. Rows become draft feedback, unless --publish, which publishes it, "
        "queues each candidate's invitation email, and is refused when any row has risky "
        "wording.",
        "Exit status: 0 when the file was imported (or, with --dry-run, would be), 1 when it "
        "has errors (nothing written), 2 on a usage error (bad arguments, unknown "
        "organization, unreadable file).",
    )
)


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import feedback from a CSV file; exit 1 when any row is refused."""
    try:
        with open(args.file, "rb") as stream:
            data = stream.read(csv_import.MAX_COMMAND_LINE_BYTES + 1)
    except OSError as exc:
        print(f"portal: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    if args.publish:
        settings = _for_links(settings)
    bar = _ProgressBar(enabled=sys.stderr.isatty() and not args.quiet)

    async def run(sessions: Any) -> csv_import.ImportResult | str:
        async with unit_of_work(sessions) as db:
            organization = await csv_import.find_organization(db, slug=args.organization)
            if isinstance(organization, str):
                return organization
            return await csv_import.import_csv(
                db,
                data=data,
                organization_id=organization,
                publish=args.publish,
                dry_run=args.dry_run,
                staff_id=None,
                settings=settings,
                now=utcnow(),
                source={"source": "command line", "file": os.path.basename(args.file)},
                progress=bar.update,
                max_bytes=csv_import.MAX_COMMAND_LINE_BYTES,
            )

    try:
        result = _with_engine(settings, run)
    except csv_import.FileProblem as exc:
        print(f"portal: {args.file}: {exc}", file=sys.stderr)
        return 1
    finally:
        bar.close()
    if isinstance(result, str):
        print(f"portal: {result}", file=sys.stderr)
        return 2
    sys.stdout.write(csv_import.text_report(result, dry_run=args.dry_run, publish=args.publish))
    return 0 if result.checked.ok else 1


class _ProgressBar:
    """A progress bar on stderr for long imports, when it is a terminal (tqdm)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.phase = ""
        self.bar: Any = None

    def update(self, phase: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if phase != self.phase:
            self.close()
            self.phase = phase
            self.bar = tqdm(total=total, desc=phase, unit=" rows" if phase != "Writing" else "")
        self.bar.total = max(total, done)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portal",
        description="Afterword, the candidate feedback portal. Settings come from PORTAL_* "
        "environment variables (see the README).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="run a demo on SQLite with realistic feedback",
        description="Create the database if needed, apply migrations, seed two demo "
        "organizations (an employer and a recruitment agency, with jobs, candidates, feedback "
        "and staff accounts), queue each candidate's invitation email, print a fresh link for "
        "every application with published feedback, the candidates' addresses and the staff "
        "accounts once the server accepts requests, and serve until interrupted.",
    )
    _host_port(demo)
    demo.add_argument(
        "--json",
        action="store_true",
        help="print one line of JSON on stdout instead of text: base_url, candidates (name, "
        "email, job, organization, link) and staff (email, password, name, role, "
        "organization); logs go to stderr",
    )
    demo.set_defaults(handler=cmd_demo)

    serve = commands.add_parser(
        "serve",
        help="serve the portal",
        description="Serve the portal with one process. Run several behind a load balancer "
        "to scale out (on PostgreSQL). Apply migrations first with `portal db upgrade`. "
        "Request heads (request line and headers) over 32 KiB are refused with 431.",
    )
    _host_port(serve)
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="do not run background jobs (mail included) in this process (run `portal worker`)",
    )
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser(
        "worker",
        help="run background jobs: sign-in requests, email, periodic jobs",
        description="Run due background jobs (sign-in requests, email delivery, periodic "
        "jobs) until interrupted. On PostgreSQL any number of workers can run.",
    )
    worker.add_argument("--once", action="store_true", help="do one pass and exit")
    worker.set_defaults(handler=cmd_worker)

    db = commands.add_parser("db", help="database schema", description="Database schema.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = db_commands.add_parser(
        "upgrade",
        help="apply migrations",
        description="Apply the Alembic migrations to PORTAL_DATABASE_URL (creating a SQLite "
        "file if needed).",
    )
    upgrade.add_argument("revision", nargs="?", default="head", help="target (default: head)")
    upgrade.set_defaults(handler=cmd_db_upgrade)

    links = commands.add_parser("links", help="candidate links", description="Candidate links.")
    link_commands = links.add_subparsers(dest="links_command", required=True, metavar="COMMAND")
    issue = link_commands.add_parser(
        "issue",
        help="print a fresh invitation link",
        description="Issue a fresh invitation link to an application's feedback and print its "
        "URL (built on PORTAL_BASE_URL). The link expires after the organization's invitation "
        "lifetime and works once.",
    )
    issue.add_argument(
        "--application", type=int, required=True, metavar="ID", help="the application's id"
    )
    issue.set_defaults(handler=cmd_links_issue)
    send = link_commands.add_parser(
        "send",
        help="email a fresh invitation link",
        description="Issue a fresh invitation link to an application's feedback and queue the "
        "invitation email to the candidate (delivered by the worker).",
    )
    send.add_argument(
        "--application", type=int, required=True, metavar="ID", help="the application's id"
    )
    send.set_defaults(handler=cmd_links_send)

    mail_parser = commands.add_parser(
        "mail", help="queued and sent email", description="Queued and sent email (mail.send jobs)."
    )
    mail_commands = mail_parser.add_subparsers(
        dest="mail_command", required=True, metavar="COMMAND"
    )
    status = mail_commands.add_parser(
        "status",
        help="counts by state and the last errors",
        description="Show how many emails are pending, sent and failed, and the last errors.",
    )
    status.set_defaults(handler=cmd_mail_status)
    retry = mail_commands.add_parser(
        "retry",
        help="requeue failed email",
        description="Put one email (by id) or every failed email back in the queue with fresh "
        "attempts.",
    )
    retry.add_argument("id", nargs="?", type=int, help="the email's id (see `portal mail status`)")
    retry.add_argument("--failed", action="store_true", help="requeue every failed email")
    retry.set_defaults(handler=cmd_mail_retry)

    feedback = commands.add_parser("feedback", help="feedback text", description="Feedback text.")
    feedback_commands = feedback.add_subparsers(
        dest="feedback_command", required=True, metavar="COMMAND"
    )
    check_parser = feedback_commands.add_parser(
        "check",
        help="flag risky, vague or harsh words in feedback text",
        description=_CHECK_DESCRIPTION,
        epilog="examples:  portal feedback check answers.txt\n"
        "           ats-export | portal feedback check --json > findings.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check_parser.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="UTF-8 text, one feedback text per line (default: standard input; - also "
        "means standard input)",
    )
    check_parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON array with one element per input line, each a list of "
        '{"rule", "severity", "start", "end", "message"}',
    )
    check_parser.set_defaults(handler=cmd_feedback_check)

    import_parser = commands.add_parser(
        "import",
        help="import rejections and their feedback from a CSV file",
        description=_IMPORT_DESCRIPTION,
        epilog="examples:  portal import feedback.csv --dry-run\n"
        "           portal import feedback.csv --organization northwind\n"
        "           portal import feedback.csv --organization northwind --publish",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    import_parser.add_argument("file", metavar="FILE.csv", help="the CSV file (UTF-8)")
    import_parser.add_argument(
        "--organization",
        metavar="SLUG",
        help="the organization the rows belong to (may be left out when there is only one)",
    )
    import_parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check every row and say what would change, without writing anything",
    )
    import_parser.add_argument(
        "--publish",
        action="store_true",
        help="publish the feedback and queue each candidate's invitation email (refused when "
        "any row has risky wording); without it, rows become drafts",
    )
    import_parser.add_argument(
        "--quiet", action="store_true", help="no progress bar, even on a terminal"
    )
    import_parser.set_defaults(handler=cmd_import)
    return parser


def _host_port(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address (default {DEFAULT_HOST})")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)",
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"portal: {exc}", file=sys.stderr)
        return 2
    configure_logging(json_lines=settings.json_logs)
    try:
        result: int = args.handler(args, settings)
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"portal: {exc}", file=sys.stderr)
        return 1
    return result


if __name__ == "__main__":
    raise SystemExit(main())
