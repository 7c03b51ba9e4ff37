"""Refuse request heads and bodies over a size limit: heads before anything reads
them, bodies before anything reads them into memory."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.security.csrf import resolve_exemptions

BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Request line and headers together. Browsers send a few KiB; nginx's default
# buffers take 32 KiB (4 x 8k), the same as here.
MAX_HEAD_BYTES = 32 * 1024


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """`max_bytes` of body for every request, except the routes named in `larger`
    (among `routes`), each with its own limit (`too_large` answers); and
    `max_head_bytes` of request line and headers (`head_too_large` answers, 431).

    The HTTP server has parsed and buffered the head by then (uvicorn's httptools
    protocol has no bound of its own): a reverse proxy caps heads before they
    arrive; this keeps the app's answer the same without one."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        too_large: ASGIApp,
        head_too_large: ASGIApp,
        max_head_bytes: int = MAX_HEAD_BYTES,
        routes: Iterable[Any] = (),
        larger: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.too_large = too_large
        self.head_too_large = head_too_large
        self.max_head_bytes = max_head_bytes
        limits = larger or {}
        # The same resolution of route names to methods and paths as CSRF exemptions.
        self.larger = [
            (route, limits[route.name])
            for route in resolve_exemptions(routes, dict.fromkeys(limits, "larger body"))
        ]

    def limit_for(self, scope: Scope) -> int:
        for route, limit in self.larger:
            if route.matches(scope):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope) if self.larger else self.max_bytes
        # The request line (method, target, version) and each header line with its
        # ": " and CRLF, as they came.
        head = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b"")) + 16
        declared = 0
        for name, value in scope["headers"]:
            head += len(name) + len(value) + 4
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = max_bytes + 1
        if head > self.max_head_bytes:
            await self.head_too_large(scope, receive, send)
            return
        if declared > max_bytes:
            await self.too_large(scope, receive, send)
            return
        if scope["method"] in BODILESS_METHODS:
            # Nothing reads a GET's body, so there is nothing to count.
            await self.app(scope, receive, send)
            return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if response_started:
                raise
            await self.too_large(scope, receive, send)
