"""Links and redirects, built from route names and paths, never from the Host header."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import NoMatchFound, Router
from starlette.types import Scope

from portal.web.state import is_htmx

if TYPE_CHECKING:
    pass


def path_for(request: Request, name: str, /, **params: Any) -> str:
    """The path of a named route under the app's root path: for links and redirects.

    Never an absolute URL built from the Host header, which the client chooses.
    """
    # The router, or the app for pages rendered by middleware before routing.
    provider: Router | Starlette = request.scope.get("router") or request.scope["app"]
    return app_root_path(request.scope) + str(provider.url_path_for(name, **params))


def optional_path_for(request: Request, name: str, /, **params: Any) -> str | None:
    """`path_for`, or None when the app has no route called `name`: for a link to a
    page that another part of the app may or may not offer."""
    try:
        return path_for(request, name, **params)
    except NoMatchFound:
        return None


def app_root_path(scope: Scope) -> str:
    """The application's own root path (behind a proxy), not the prefix of the
    Mount a request was routed into."""
    root: str = scope.get("app_root_path", scope.get("root_path", ""))
    return root


def redirect(
    request: Request,
    name: str,
    /,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    status_code: int = 303,
    **params: Any,
) -> RedirectResponse:
    """A redirect to a named route, by path (relative to this host)."""
    target = path_for(request, name, **params) + (f"?{query}" if query else "")
    return RedirectResponse(target, status_code=status_code, headers=headers)


def redirect_page(request: Request, url: str) -> Response:
    """Go to another page: a 303, or for htmx (whose requests follow redirects
    unseen and would swap the next page into a fragment) an HX-Redirect."""
    headers = {"cache-control": "no-store"}
    if is_htmx(request):
        return Response(status_code=204, headers={**headers, "hx-redirect": url})
    return RedirectResponse(url, status_code=303, headers=headers)
