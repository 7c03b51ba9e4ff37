"""Shared request helpers for handlers, one module per concept:

- `state`: the app's state (`Portal`), the unit of work, the client's identity;
- `paths`: links and redirects from route names and paths;
- `templates`: the Jinja environment and rendering;
- `pages`: error pages, "please sign in", the visitor's branding;
- `forms`: reading forms and queries, the 422 and 409 pages;
- `sessions`: answering a sign-in, signing out.

Handlers import from here; only handlers do (docs/architecture.md).
"""

from __future__ import annotations

# Registers the `{name:id}` path convertor, before any routes module (each imports
# this package) declares a route with it.
from portal.routing import IdConvertor  # noqa: F401
from portal.web.forms import conflict_page, parse_form, parse_query
from portal.web.pages import (
    API_PREFIX,
    NO_STORE,
    ORG_COOKIE,
    ORG_COOKIE_MAX_AGE,
    asgi_error_page,
    bad_request,
    csrf_rejected,
    database_error,
    error_page,
    method_not_allowed,
    not_found,
    rate_limited,
    remember_organization,
    server_error,
    session_ended_fragment,
    sign_in_required,
    speaks_json,
    visitor_context,
)
from portal.web.paths import (
    app_root_path,
    optional_path_for,
    path_for,
    redirect,
    redirect_page,
)
from portal.web.sessions import sign_out, signed_in, staff_signed_in
from portal.web.state import (
    Portal,
    client_ip,
    client_ip_hash,
    db_reads,
    db_session,
    is_htmx,
    portal,
)
from portal.web.templates import HTMX_JS, VARY_COOKIE, make_templates, render, url_for

__all__ = [
    "API_PREFIX",
    "HTMX_JS",
    "NO_STORE",
    "ORG_COOKIE",
    "ORG_COOKIE_MAX_AGE",
    "VARY_COOKIE",
    "Portal",
    "app_root_path",
    "asgi_error_page",
    "bad_request",
    "client_ip",
    "client_ip_hash",
    "conflict_page",
    "csrf_rejected",
    "database_error",
    "db_reads",
    "db_session",
    "error_page",
    "is_htmx",
    "make_templates",
    "method_not_allowed",
    "not_found",
    "optional_path_for",
    "parse_form",
    "parse_query",
    "path_for",
    "portal",
    "rate_limited",
    "redirect",
    "redirect_page",
    "remember_organization",
    "render",
    "server_error",
    "session_ended_fragment",
    "sign_in_required",
    "sign_out",
    "signed_in",
    "speaks_json",
    "staff_signed_in",
    "url_for",
    "visitor_context",
]
