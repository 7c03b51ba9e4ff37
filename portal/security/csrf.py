"""CSRF protection for every state-changing request (DESIGN §6).

Double-submit token: a random token lives in an HttpOnly cookie and must come
back in the `csrftoken` form field (forms) or the `X-CSRFToken` header (htmx,
set from `hx-headers` on <body>). A request without the cookie is refused
too, so sign-in and link forms are covered. On top, browsers' own
`Sec-Fetch-Site` and `Origin` headers must say the request came from here.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FIELD = "csrftoken"
HEADER = b"x-csrftoken"


def cookie_name(https: bool) -> str:
    return "__Host-afterword_csrf" if https else "afterword_csrf"


def csrf_token(scope: Scope) -> str:
    """The token for forms on the page being rendered."""
    token: str = scope["state"]["csrf_token"]
    return token


class CsrfMiddleware:
    def __init__(
        self, app: ASGIApp, *, https: bool, allowed_origin: str | None, rejected: ASGIApp
    ) -> None:
        self.app = app
        self.https = https
        self.cookie = cookie_name(https)
        self.allowed_origin = allowed_origin
        self.rejected = rejected
        attrs = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if https else "")
        self.cookie_attrs = attrs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        cookie_token = _cookie(headers.get(b"cookie"), self.cookie)
        token = cookie_token or secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_token"] = token

        send_out = send
        if cookie_token is None:
            set_cookie = f"{self.cookie}={token}; {self.cookie_attrs}".encode()

            async def send_with_cookie(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), (b"set-cookie", set_cookie)]
                await send(message)

            send_out = send_with_cookie

        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send_out)
            return

        if not self._same_origin(scope, headers) or cookie_token is None:
            await self.rejected(scope, receive, send_out)
            return
        submitted = headers.get(HEADER, b"").decode("latin-1")
        if submitted:
            replay = receive
        else:
            submitted, replay = await _token_from_body(headers, receive)
        if not submitted or not secrets.compare_digest(submitted, cookie_token):
            await self.rejected(scope, replay, send_out)
            return
        await self.app(scope, replay, send_out)

    def _same_origin(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        site = headers.get(b"sec-fetch-site")
        if site is not None and site not in (b"same-origin", b"none"):
            return False
        origin = headers.get(b"origin")
        if origin is None:
            # Old browsers and non-browser clients send no Origin; the token decides.
            return True
        expected = self.allowed_origin or _request_origin(scope, headers)
        return origin.decode("latin-1").rstrip("/") == expected


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
    return cookie_parser(header.decode("latin-1")).get(name) or None


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
        values = parse_qs(body.decode("latin-1"), max_num_fields=1000).get(FIELD)
        token = values[0] if values else ""
    elif content_type == b"multipart/form-data" and b"boundary" in options:
        token = _multipart_token(body, options[b"boundary"])
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
