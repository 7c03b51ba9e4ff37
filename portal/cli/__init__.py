"""The `portal` command.

Each command's module is imported only when that command runs: `portal --help` and
`portal COMMAND --help` load argparse and nothing else.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portal.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

Handler = Callable[[argparse.Namespace, "Settings"], int]


def _paragraphs(*paragraphs: str) -> str:
    return "\n\n".join(textwrap.fill(paragraph, width=78) for paragraph in paragraphs)


_CHECK_DESCRIPTION = _paragraphs(
    "Run the feedback check on one text per line (for example feedback exported from an "
    "ATS) and report what it flags, with the words and what to write instead: risky "
    "(protected characteristics and their proxies, culture fit, judgements of personality "
    "or appearance, comparisons with the person hired), vague (generic lines, sentences that "
    "assess without naming a requirement, evidence or an action) and tone (absolutes, harsh "
    "words, contempt, sarcasm, blame). Spans are character offsets in the line.",
    "Exit status: 0 when no line has a risky finding, 1 when at least one does, 2 on a "
    "usage error (bad arguments, unreadable or non-UTF-8 input).",
)


_IMPORT_DESCRIPTION = _paragraphs(
    "Import rejections with their feedback from a CSV file (UTF-8, at most 1 GB): one row "
    "per application, with the candidate (email, name), the job (its title or number), the "
    "stage reached, the decision date (decided_on, YYYY-MM-DD; left empty, the day of the "
    "import), the decision summary, a rating and evidence per requirement, strengths, "
    "growth areas with suggestions, next steps and a personal note. The columns are listed "
    'in docs/staff/import.md ("Importing feedback from a CSV"); the staff import page offers a '
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


_SERVE_DESCRIPTION = _paragraphs(
    "Serve the portal: one process, or --workers N processes on one socket under uvicorn's "
    "process manager (PostgreSQL only), which restarts a process that dies and replaces "
    "them one at a time on SIGHUP. Any number of such servers can run behind a "
    "TLS-terminating proxy. Request heads (request line and headers) over 32 KiB are "
    "refused with 431.",
    "SIGTERM or SIGINT stops gracefully: no new connections are accepted, requests in "
    "progress finish (for up to --graceful-timeout seconds), then the process exits.",
    "Needs: PORTAL_DATABASE_URL, with the migrations applied first (`portal db upgrade`); "
    "PORTAL_BASE_URL, the public address in emailed links (default: this server's own "
    "http://HOST:PORT); in production (PORTAL_ENV=production) a PORTAL_SECRET_KEY of 32+ "
    "characters and an https:// PORTAL_BASE_URL, or it refuses to start, saying what to "
    "set. Unless --no-worker (or PORTAL_RUN_WORKER=false), it also runs the background "
    "jobs, email included: then it needs what `portal worker` needs.",
    "Settings are PORTAL_* environment variables: see docs/admin/settings.md.",
)

_WORKER_DESCRIPTION = _paragraphs(
    "Run due background jobs (sign-in requests, email delivery, periodic jobs) until "
    "interrupted. On PostgreSQL any number of workers can run, beside any number of "
    "`portal serve --no-worker` processes. SIGTERM or SIGINT: the batch in hand is "
    "finished and recorded, then the worker exits.",
    "Needs the settings the app processes have: the same PORTAL_DATABASE_URL (migrated); "
    "the same PORTAL_SECRET_KEY (queued email holds its links sealed with it); "
    "PORTAL_BASE_URL (the links in the email it writes); and PORTAL_SMTP_URL to send mail "
    "(without it, each message is written as an .eml file to PORTAL_MAIL_DIR). In "
    "production the same checks as `portal serve` apply.",
    "Settings are PORTAL_* environment variables: see docs/admin/settings.md.",
)

_ORG_INVITE_ADMIN_DESCRIPTION = _paragraphs(
    "Send an admin of an organization a fresh invitation, when the first one expired or "
    "was lost: for an account that has not signed in yet (no password, no single sign-on), "
    "earlier links stop working. When no account of the organization has the address, a "
    "new admin is created and invited, as `portal org create` invites the first. The link "
    "is emailed through the outbox and printed; it works once, for 7 days.",
    "An account that can sign in already, a deactivated one or one that is not an admin "
    "is refused: the organization's admins manage their colleagues at /staff/people.",
    "Exit status: 0 when the invitation was made, 2 on bad input, an unknown organization "
    "or a refused account.",
)

_ORG_CREATE_DESCRIPTION = _paragraphs(
    "Create an organization from nothing, with default settings (the name shown to "
    "candidates is NAME, the default accent colour, a 5-day reply promise, 14-day "
    "invitation links, a plain talent-pool consent statement; an admin changes them at "
    "/staff/settings), and its first admin: an admin account with no password yet. The "
    "admin's invitation is emailed through the outbox (sent by `portal worker`, or by "
    "`portal serve` when it runs jobs) and printed: opening it, they choose a password "
    "(or link single sign-on, when configured) and land on /staff/. It works once, for "
    "7 days. Links are built on PORTAL_BASE_URL.",
    "Everything is written in one transaction, or nothing: bad input (an empty or "
    "too long name, a malformed slug or email address) or a slug already taken gives "
    "one line on stderr naming the problem.",
    "Exit status: 0 when the organization was created, 2 on bad input or a slug already taken.",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portal",
        description="Afterword, the candidate feedback portal. Settings come from PORTAL_* "
        "environment variables (see docs/admin/settings.md).",
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
    demo.set_defaults(handler="demo:cmd_demo")

    serve = commands.add_parser(
        "serve",
        help="serve the portal",
        description=_SERVE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _host_port(serve)
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="do not run background jobs (mail included) in this process (run `portal worker`)",
    )
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        metavar="N",
        help="processes serving requests (default 1; more need PostgreSQL)",
    )
    serve.add_argument(
        "--graceful-timeout",
        type=_positive,
        default=30,
        metavar="SECONDS",
        help="on SIGTERM, how long requests in progress may take to finish (default 30)",
    )
    serve.set_defaults(handler="serving:cmd_serve")

    worker = commands.add_parser(
        "worker",
        help="run background jobs: sign-in requests, email, periodic jobs",
        description=_WORKER_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    worker.add_argument("--once", action="store_true", help="do one pass and exit")
    worker.set_defaults(handler="serving:cmd_worker")

    db = commands.add_parser("db", help="database schema", description="Database schema.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = db_commands.add_parser(
        "upgrade",
        help="apply migrations",
        description="Apply the Alembic migrations to PORTAL_DATABASE_URL (creating a SQLite "
        "file if needed).",
    )
    upgrade.add_argument("revision", nargs="?", default="head", help="target (default: head)")
    upgrade.set_defaults(handler="serving:cmd_db_upgrade")

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
    issue.set_defaults(handler="links:cmd_links_issue")
    send = link_commands.add_parser(
        "send",
        help="email a fresh invitation link",
        description="Issue a fresh invitation link to an application's feedback and queue the "
        "invitation email to the candidate (delivered by the worker).",
    )
    send.add_argument(
        "--application", type=int, required=True, metavar="ID", help="the application's id"
    )
    send.set_defaults(handler="links:cmd_links_send")

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
    status.set_defaults(handler="links:cmd_mail_status")
    retry = mail_commands.add_parser(
        "retry",
        help="requeue failed email",
        description="Put one email (by id) or every failed email back in the queue with fresh "
        "attempts.",
    )
    retry.add_argument("id", nargs="?", type=int, help="the email's id (see `portal mail status`)")
    retry.add_argument("--failed", action="store_true", help="requeue every failed email")
    retry.set_defaults(handler="links:cmd_mail_retry")

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
    check_parser.add_argument(
        "--requirement",
        action="append",
        default=[],
        metavar="TEXT",
        help="a requirement of the job the feedback is for (repeat for each): a language it "
        "names is not flagged as nationality, and a sentence that names it is specific",
    )
    check_parser.set_defaults(handler="texts:cmd_feedback_check")

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
    import_parser.set_defaults(handler="texts:cmd_import")

    org = commands.add_parser(
        "org", help="organizations", description="The installation's organizations."
    )
    org_commands = org.add_subparsers(dest="org_command", required=True, metavar="COMMAND")
    create = org_commands.add_parser(
        "create",
        help="create an organization and invite its first admin",
        description=_ORG_CREATE_DESCRIPTION,
        epilog='examples:  portal org create --name "Acme Corp" --admin-email ada@acme.example\n'
        '           portal org create --name "Acme Corp" --slug acme \\\n'
        '               --admin-email ada@acme.example --admin-name "Ada Lovelace" --json',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    create.add_argument(
        "--name",
        required=True,
        metavar="NAME",
        help="the organization's name, as candidates see it (one line, at most 200 characters)",
    )
    create.add_argument(
        "--slug",
        metavar="SLUG",
        help="its short name in addresses: lower-case letters a-z and digits in words joined "
        "by single hyphens, at most 63 characters (default: made from NAME, e.g. acme-corp)",
    )
    create.add_argument(
        "--admin-email",
        required=True,
        metavar="EMAIL",
        help="the first admin's email address: the invitation goes there",
    )
    create.add_argument(
        "--admin-name",
        metavar="NAME",
        help="the first admin's name, as colleagues and candidates see it (default: the part "
        "of EMAIL before the @)",
    )
    create.add_argument(
        "--json",
        action="store_true",
        help='print one line of JSON on stdout instead of text: {"organization": {"id", '
        '"slug", "name"}, "admin": {"email"}, "invitation_url"}',
    )
    create.set_defaults(handler="orgs:cmd_org_create")
    invite_admin = org_commands.add_parser(
        "invite-admin",
        help="invite an admin again, or a new admin",
        description=_ORG_INVITE_ADMIN_DESCRIPTION,
        epilog="examples:  portal org invite-admin --organization acme --admin-email "
        "ada@acme.example\n"
        "           portal org invite-admin --organization acme --admin-email "
        'grace@acme.example --admin-name "Grace Hopper" --json',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    invite_admin.add_argument(
        "--organization",
        required=True,
        metavar="SLUG",
        help="the organization's slug (`portal org list` shows them)",
    )
    invite_admin.add_argument(
        "--admin-email", required=True, metavar="EMAIL", help="the admin's email address"
    )
    invite_admin.add_argument(
        "--admin-name",
        metavar="NAME",
        help="for a new admin only: their name (default: the part of EMAIL before the @)",
    )
    invite_admin.add_argument(
        "--json",
        action="store_true",
        help='print one line of JSON on stdout instead of text: {"organization": {"id", '
        '"slug", "name"}, "admin": {"email", "new"}, "invitation_url"}',
    )
    invite_admin.set_defaults(handler="orgs:cmd_org_invite_admin")
    org_list = org_commands.add_parser(
        "list",
        help="list organizations",
        description="List every organization, oldest first: id, slug, name, active staff "
        "accounts (invited ones included) and when it was created (UTC).",
    )
    org_list.add_argument(
        "--json",
        action="store_true",
        help='print one JSON array on one line instead of a table: [{"id", "slug", "name", '
        '"staff_count", "created_at"}], created_at in ISO 8601 (UTC)',
    )
    org_list.set_defaults(handler="orgs:cmd_org_list")
    _api_key_commands(commands)
    return parser


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {number}")
    return number


SCOPES = ("applications:write", "applications:read", "threads:read", "pool:read")


def _api_key_commands(commands: Any) -> None:
    api_key = commands.add_parser(
        "api-key",
        help="keys for the JSON API",
        description="An organization's keys for the JSON API (/api/v1; see docs/api.md). "
        "Admins manage them at /staff/api-keys too.",
    )
    key_commands = api_key.add_subparsers(dest="api_key_command", required=True, metavar="COMMAND")
    create = key_commands.add_parser(
        "create",
        help="create a key and print it once",
        description=_paragraphs(
            "Create an API key for an organization and print it, once: only its SHA-256 is "
            "stored, so it cannot be shown again (revoke it and create another if it is "
            "lost). The key is sent as `Authorization: Bearer <key>`. Audited.",
            "Exit status: 0 when the key was created, 2 on bad input or an unknown organization.",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:  portal api-key create --organization acme --name 'Greenhouse sync'\n"
        "           portal api-key create --organization acme --name reports \\\n"
        "               --scope applications:read --scope pool:read --json",
    )
    create.add_argument(
        "--organization", required=True, metavar="SLUG", help="the organization's slug"
    )
    create.add_argument("--name", required=True, help="what uses the key (up to 100 characters)")
    create.add_argument(
        "--scope",
        action="append",
        choices=SCOPES,
        metavar="SCOPE",
        help="what the key may do; repeat for several (default: applications:write and "
        f"applications:read). One of: {', '.join(SCOPES)}",
    )
    create.add_argument(
        "--json",
        action="store_true",
        help='print one line of JSON instead of text: {"id", "name", "prefix", "scopes", "key"}',
    )
    create.set_defaults(handler="api_keys:cmd_api_key_create")
    listing = key_commands.add_parser(
        "list",
        help="list an organization's keys",
        description="List an organization's API keys, newest first: id, the key's first "
        "characters, name, scopes, when created and last used (UTC), and whether revoked.",
    )
    listing.add_argument(
        "--organization", required=True, metavar="SLUG", help="the organization's slug"
    )
    listing.add_argument(
        "--json",
        action="store_true",
        help='print one JSON array instead: [{"id", "name", "prefix", "scopes", "created_at", '
        '"last_used_at", "revoked_at"}]',
    )
    listing.set_defaults(handler="api_keys:cmd_api_key_list")
    revoke = key_commands.add_parser(
        "revoke",
        help="revoke a key",
        description="Revoke an organization's API key: every request with it is refused "
        "from then on. Audited. Exit status 0 (also when it was revoked already), 2 for an "
        "unknown organization or key.",
    )
    revoke.add_argument(
        "--organization", required=True, metavar="SLUG", help="the organization's slug"
    )
    revoke.add_argument(
        "--id", required=True, type=int, help="the key's id (`portal api-key list` shows it)"
    )
    revoke.set_defaults(handler="api_keys:cmd_api_key_revoke")


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
    # Imported once a command is chosen, so that `portal --help` answers at once.
    from portal.logs import configure_logging
    from portal.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"portal: {exc}", file=sys.stderr)
        return 2
    configure_logging(json_lines=settings.json_logs)
    try:
        result: int = _handler(args.handler)(args, settings)
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"portal: {exc}", file=sys.stderr)
        return 1
    return result


def _handler(name: str) -> Handler:
    """The command function named "module:function" among this package's modules."""
    module, function = name.split(":")
    handler: Handler = getattr(importlib.import_module(f"portal.cli.{module}"), function)
    return handler
