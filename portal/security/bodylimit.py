"""Refuse request bodies over a size limit before anything reads them into memory."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.security.csrf import resolve_exemptions

BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """`max_bytes` for every request, except the routes named in `larger` (among
    `routes`), each with its own limit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        too_large: ASGIApp,
        routes: Iterable[Any] = (),
        larger: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.too_large = too_large
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
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = max_bytes + 1
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
