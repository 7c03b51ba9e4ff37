"""Security headers on every response (pure ASGI: no per-request task or copy)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.security.token_paths import is_token_path

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def referrer_policy(scope: Scope) -> str:
    """The policy for this response; base.html repeats it in a <meta> so both agree.
    Pages whose address holds a token send no Referer at all."""
    return "no-referrer" if is_token_path(scope) else "same-origin"


def content_security_policy(form_targets: Sequence[str] = ()) -> str:
    """The policy, letting forms lead to `form_targets` (origins) besides this site:
    Chromium applies `form-action` to the redirects a form's answer makes, and the
    single sign-on button's answer is a redirect to the OpenID provider."""
    if not form_targets:
        return CSP
    allowed = " ".join(["'self'", *form_targets])
    return CSP.replace("form-action 'self'", f"form-action {allowed}")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool, form_targets: Sequence[str] = ()) -> None:
        self.app = app
        headers = [
            (b"content-security-policy", content_security_policy(form_targets).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]
        if https:
            headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
        self.headers = [*headers, (b"referrer-policy", b"same-origin")]
        self.token_headers = [*headers, (b"referrer-policy", b"no-referrer")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        token_page = is_token_path(scope)
        own = self.token_headers if token_page else self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                present = {name for name, _ in headers}
                extra = [(n, v) for n, v in own if n not in present]
                # Pages carry per-visitor CSRF tokens: no shared cache may keep them;
                # nor any cache an answer (a redirect too) to an address with a token.
                if b"cache-control" not in present and (
                    token_page
                    or any(
                        name == b"content-type" and value.startswith(b"text/html")
                        for name, value in headers
                    )
                ):
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
