"""CSRF protection for every state-changing request (DESIGN §6).

Double-submit token: a random token lives in an HttpOnly cookie and must come
back in the `csrftoken` form field (forms) or the `X-CSRFToken` header (htmx,
set from `hx-headers` on <body>). A request without the cookie is refused
too, so sign-in and link forms are covered. On top, browsers' own
`Sec-Fetch-Site` and `Origin` headers must say the request came from here.

The cookie is set only by a response that rendered the token (a page with
forms), and never by one that a shared cache may store: such a response
would hand every later visitor the same token.

Routes that authenticate themselves (an API key, a one-click unsubscribe
link) are exempted by name, in one declared list (`portal.app.CSRF_EXEMPT`),
each with its reason; every exemption is logged once when the app starts.

We keep this middleware rather than `asgi-csrf`: that library does the
double-submit part only (no fetch-metadata or Origin check, which we would
still need in front of it), answers refusals with its own response rather
than our error page, and exempts by a scope predicate rather than by route
name, so the audit below would be ours anyway.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header
from starlette.requests import cookie_parser
from starlette.routing import Mount, Route, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.security.token_paths import route_path

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FIELD = "csrftoken"
HEADER = b"x-csrftoken"
MAX_FIELDS = 1000
# secrets.token_urlsafe(32); anything else in the cookie is replaced.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def cookie_name(https: bool) -> str:
    return "__Host-afterword_csrf" if https else "afterword_csrf"


def csrf_token(scope: Scope) -> str:
    """The token for forms on the page being rendered ("" where CSRF is exempt).

    Asking for it is what lets the middleware set the cookie on this response.
    """
    state = scope.get("state", {})
    token: str = state.get("csrf_token", "")
    if token:
        state["csrf_used"] = True
    return token


# In the scope's state of a refused request: whether the browser said the request
# came from a page of this site (see `CsrfMiddleware`).
SAME_ORIGIN_PROVEN = "csrf_same_origin"


class MalformedBody(ValueError):
    pass


@dataclass(frozen=True)
class Exemption:
    name: str
    path: str
    methods: frozenset[str] | None  # None: every method (a whole area)
    reason: str
    pattern: re.Pattern[str]

    def matches(self, scope: Scope) -> bool:
        if self.methods is not None and scope["method"] not in self.methods:
            return False
        return self.pattern.match(route_path(scope)) is not None


def resolve_exemptions(routes: Iterable[Any], declared: Mapping[str, str]) -> list[Exemption]:
    """The routes (or Mounts, for a whole area) named in `declared`, with their paths."""
    found: list[Exemption] = []

    def walk(routes: Iterable[Any], prefix: str) -> None:
        for route in routes:
            name: str = getattr(route, "name", None) or ""
            if isinstance(route, Mount):
                path = prefix + route.path
                if name in declared:
                    pattern = compile_path(path + "/{path:path}")[0]
                    found.append(Exemption(name, path + "/", None, declared[name], pattern))
                walk(route.routes, path)
            elif isinstance(route, Route) and name in declared:
                path = prefix + route.path
                methods = frozenset(route.methods) if route.methods else None
                pattern = compile_path(path)[0]
                found.append(Exemption(name, path, methods, declared[name], pattern))

    walk(routes, "")
    missing = set(declared) - {exemption.name for exemption in found}
    if missing:
        raise ValueError(f"CSRF exemption for unknown route(s): {', '.join(sorted(missing))}")
    return found


class CsrfMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        https: bool,
        allowed_origin: str | None,
        rejected: ASGIApp,
        malformed: ASGIApp,
        routes: Iterable[Any] = (),
        exempt: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.https = https
        self.cookie = cookie_name(https)
        self.allowed_origin = allowed_origin
        self.rejected = rejected
        self.malformed = malformed
        attrs = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if https else "")
        self.cookie_attrs = attrs
        self.exemptions = resolve_exemptions(routes, exempt or {})
        for exemption in self.exemptions:
            methods = ",".join(sorted(exemption.methods)) if exemption.methods else "any method"
            log.warning(
                "CSRF checks are off for %s (%s %s): %s",
                exemption.name,
                methods,
                exemption.path,
                exemption.reason,
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.exemptions and any(exemption.matches(scope) for exemption in self.exemptions):
            # No token, no cookie: the route authenticates the request itself.
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        cookie_token = _cookie(headers.get(b"cookie"), self.cookie)
        token = cookie_token or secrets.token_urlsafe(32)
        state = scope.setdefault("state", {})
        state["csrf_token"] = token

        send_out = send
        if cookie_token is None:
            set_cookie = f"{self.cookie}={token}; {self.cookie_attrs}".encode()

            async def send_with_cookie(message: Message) -> None:
                if message["type"] == "http.response.start" and state.get("csrf_used"):
                    message["headers"] = _with_cookie(message.get("headers", []), set_cookie)
                await send(message)

            send_out = send_with_cookie

        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send_out)
            return

        if not self._same_origin(scope, headers) or cookie_token is None:
            await self.rejected(scope, receive, send_out)
            return
        # A page of ours sent this (the browser says so): if only its token is stale,
        # the refusal may show the person what they typed (never for a cross-site post,
        # which could make our page say anything).
        state[SAME_ORIGIN_PROVEN] = headers.get(b"sec-fetch-site") == b"same-origin" or (
            headers.get(b"origin") not in (None, b"null")
        )
        submitted = headers.get(HEADER, b"").decode("latin-1")
        if submitted:
            replay = receive
        else:
            try:
                submitted, replay = await _token_from_body(headers, receive)
            except MalformedBody:
                await self.malformed(scope, receive, send_out)
                return
        if (
            not submitted
            or not submitted.isascii()
            or not secrets.compare_digest(submitted, cookie_token)
        ):
            await self.rejected(scope, replay, send_out)
            return
        await self.app(scope, replay, send_out)

    def _same_origin(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        site = headers.get(b"sec-fetch-site")
        if site is not None and site not in (b"same-origin", b"none"):
            return False
        origin = headers.get(b"origin")
        if origin is None or origin == b"null":
            # Old browsers and non-browser clients send no Origin, and browsers send
            # "null" from a page with Referrer-Policy: no-referrer (the link pages):
            # Sec-Fetch-Site above, where sent, and the token decide.
            return True
        expected = self.allowed_origin or _request_origin(scope, headers)
        return origin.decode("latin-1").rstrip("/") == expected


def _with_cookie(
    headers: list[tuple[bytes, bytes]], set_cookie: bytes
) -> list[tuple[bytes, bytes]]:
    """The response's headers with the cookie, unless shared caches may store it."""
    cache_control = b""
    for name, value in headers:
        if name == b"cache-control":
            cache_control = value.lower()
    if not cache_control:
        return [*headers, (b"cache-control", b"no-store"), (b"set-cookie", set_cookie)]
    if b"no-store" in cache_control or b"private" in cache_control:
        return [*headers, (b"set-cookie", set_cookie)]
    # public, max-age, s-maxage...: a shared cache could hand this cookie to anyone.
    return headers


def _request_origin(scope: Scope, headers: dict[bytes, bytes]) -> str:
    host = headers.get(b"host", b"").decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{host}"


def origin_of(url: str) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _cookie(header: bytes | None, name: str) -> str | None:
    if not header:
        return None
    # Starlette's own parser: lenient like browsers, and much cheaper than SimpleCookie.
    value = cookie_parser(header.decode("latin-1")).get(name)
    # Only a token we could have issued: anything else is replaced, never echoed in a page.
    return value if value and TOKEN_SHAPE.match(value) else None


async def _token_from_body(headers: dict[bytes, bytes], receive: Receive) -> tuple[str, Receive]:
    """Read the whole body (already bounded by BodyLimitMiddleware) and replay it."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    body = b"".join(chunks)
    content_type, options = parse_options_header(headers.get(b"content-type", b""))
    token = ""
    if content_type == b"application/x-www-form-urlencoded":
        try:
            values = parse_qs(body.decode("latin-1"), max_num_fields=MAX_FIELDS).get(FIELD)
        except ValueError as exc:  # too many fields
            raise MalformedBody(str(exc)) from exc
        token = values[0] if values else ""
    elif content_type == b"multipart/form-data" and b"boundary" in options:
        try:
            token = _multipart_token(body, options[b"boundary"])
        except Exception as exc:  # python-multipart raises several kinds on bad input
            raise MalformedBody(str(exc)) from exc
    return token, replay


def _multipart_token(body: bytes, boundary: bytes) -> str:
    found: list[str] = []
    name = b""
    value: list[bytes] = []

    def on_header_value(data: bytes, start: int, end: int) -> None:
        nonlocal name
        _, opts = parse_options_header(data[start:end])
        if b"name" in opts:
            name = opts[b"name"]

    def on_part_begin() -> None:
        nonlocal name
        name = b""
        value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if name == FIELD.encode():
            value.append(data[start:end])

    def on_part_end() -> None:
        if name == FIELD.encode():
            found.append(b"".join(value).decode("latin-1"))

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_value": on_header_value,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    parser.write(body)
    parser.finalize()
    return found[0] if found else ""
