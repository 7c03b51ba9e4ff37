"""A TCP proxy the test controls, between the app and a service (e.g. PostgreSQL):
it can cut the service off and bring it back (`drop`, `restore`), cut it off
without the app noticing until it next writes (`cut_silently`, as a failover or
a dropped network path does), and hold its traffic (`pause`, as a database that
stops answering does)."""

from __future__ import annotations

import asyncio
import contextlib

from tests.mailserver import free_port

# A connection: the app's side and the service's side.
Pair = tuple[asyncio.StreamWriter, asyncio.StreamWriter]


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._pairs: set[Pair] = set()
        self._cut: set[Pair] = set()  # service's side cut, app's side left open
        self._refusing = False
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def close(self) -> None:
        self._flowing.set()
        await self.drop()

    async def drop(self) -> None:
        """Refuse new connections and cut every open one."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for pair in list(self._pairs):
            for side in pair:
                side.transport.abort()
        self._pairs.clear()

    async def restore(self) -> None:
        self._refusing = False
        if self._server is None:
            await self.start()

    def cut_silently(self) -> None:
        """Cut every connection on the service's side and refuse new ones. The app's
        side stays open until the app writes to it, so the app only finds out when
        it next uses a connection."""
        self._refusing = True
        for pair in list(self._pairs):
            self._cut.add(pair)
            pair[1].transport.abort()

    def pause(self) -> None:
        """Hold every byte, both ways, on old and new connections alike."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        pair = (writer, upstream_writer)
        self._pairs.add(pair)
        try:
            await asyncio.gather(
                self._pipe(reader, upstream_writer, pair), self._pipe(upstream_reader, writer, pair)
            )
        finally:
            self._pairs.discard(pair)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pair: Pair
    ) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                if pair[1].transport.is_closing():
                    break  # the service's side was cut: so is this connection
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if writer is pair[0] and pair in self._cut:
                # Cut silently: the app's side stays open until the app writes to
                # it (the pipe the other way then closes it).
                pass
            else:
                self._cut.discard(pair)
                for side in pair:
                    side.transport.abort()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
