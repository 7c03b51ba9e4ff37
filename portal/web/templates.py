"""Templates: the Jinja environment (jinja2-fragments, for htmx blocks) and
rendering a page or one of its blocks."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2_fragments.starlette import Jinja2Blocks
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from portal.auth import (
    Staff,
)
from portal.auth.middleware import ACTOR_KEY
from portal.formats import DEFAULT_TIME_ZONE, date_and_time, long_date, time_zone_choices
from portal.paths import STATIC_PATH, TEMPLATES_DIR
from portal.security.csrf import csrf_token
from portal.security.headers import referrer_policy
from portal.web.paths import app_root_path, path_for
from portal.web.state import is_htmx, portal

if TYPE_CHECKING:
    pass


HTMX_JS = "js/htmx-2.0.11.min.js"


def _request_context(request: Request) -> dict[str, Any]:
    state = request.scope.get("state", {})
    actor = state.get(ACTOR_KEY)
    return {
        "csrf_token": csrf_token(request.scope),
        "referrer_policy": referrer_policy(request.scope),
        # The static files' address, built from the constant the app mounts them at
        # rather than looked up among the routes for each file.
        "static_root": app_root_path(request.scope) + STATIC_PATH + "/",
        # The staff navigation: who is signed in (once asked), and the queue's counts
        # (portal.threads.nav counts them for staff pages).
        "nav_staff": actor if isinstance(actor, Staff) else None,
        "nav_counts": state.get("nav_counts"),
    }


@pass_context
def url_for(context: dict[str, Any], name: str, /, **params: Any) -> str:
    """A link for a page: the path, under the app's root path.

    Starlette's own `url_for` builds an absolute URL from the Host header; paths
    are all a page needs.
    """
    return path_for(context["request"], name, **params)


@pass_context
def viewer_time_zone(context: dict[str, Any]) -> str:
    """The time zone the signed-in staff member reads times in (UTC for anyone else)."""
    staff = context.get("nav_staff")
    return staff.time_zone if isinstance(staff, Staff) else DEFAULT_TIME_ZONE


@pass_context
def when(context: dict[str, Any], value: dt.datetime | None) -> Markup:
    """A moment for the page's reader: `<time datetime="2026-12-06T13:05:00+00:00">6 Dec
    2026, 14:05 CET</time>`, in their time zone (`viewer_time_zone`); nothing for None."""
    if value is None:
        return Markup("")
    shown = date_and_time(value, viewer_time_zone(context))
    stamp = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return Markup('<time datetime="{}">{}</time>').format(
        stamp.isoformat(timespec="seconds"), shown
    )


@functools.cache
def time_zone_datalist(list_id: str) -> Markup:
    """A `<datalist>` of the time zones to choose from, for a text field's `list`
    (built once: several hundred options)."""
    option = Markup('<option value="{}">')
    options = Markup("").join(option.format(zone) for zone in time_zone_choices())
    return Markup('<datalist id="{}">{}</datalist>').format(list_id, options)


class PageEnvironment(Environment):
    """Jinja's environment, with each template's globals one flat dict.

    Jinja chains a template's globals to the environment's (`make_globals`, a
    `ChainMap`) so that globals changed after loading still show, which its
    documentation asks not to do, and which these pages never do (every global is
    set in `make_templates`, before any template loads). A ChainMap answers each
    lookup in Python, and every render copies the globals and every
    `{% from … import … %}` compares them with the imported template's: on the
    feedback page that was a tenth of the render's CPU (bench/render_cost.py)."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


def make_templates(*, auto_reload: bool = False) -> Jinja2Blocks:
    """The pages' templates. With `auto_reload` (development) a template edited on
    disk is read again; otherwise each is loaded once, and rendering a page does not
    look at the files of the templates it extends, includes and imports."""
    env = PageEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        auto_reload=auto_reload,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates = Jinja2Blocks(env=env, context_processors=[_request_context])
    templates.env.globals["url_for"] = url_for
    templates.env.globals["htmx_js"] = HTMX_JS
    templates.env.globals["when"] = when
    templates.env.globals["viewer_time_zone"] = viewer_time_zone
    templates.env.globals["time_zone_datalist"] = time_zone_datalist
    templates.env.filters["long_date"] = long_date
    return templates


VARY_COOKIE = {"vary": "Cookie"}


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | tuple[str, ...] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render a page, or only `block` of it (or those blocks, one after another) when
    htmx asked for the fragment."""
    # Every page carries the visitor's CSRF token (and may show who is signed in).
    headers = {**headers, "vary": "Cookie"} if headers else VARY_COOKIE
    kwargs: dict[str, Any] = {"status_code": status_code, "headers": headers}
    if block is not None and is_htmx(request):
        if isinstance(block, tuple):
            kwargs["block_names"] = list(block)
        else:
            kwargs["block_name"] = block
    return portal(request).templates.TemplateResponse(request, template, context or {}, **kwargs)
