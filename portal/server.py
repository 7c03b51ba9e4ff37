"""How `portal serve` and `portal demo` listen: the socket and the HTTP protocol.

uvicorn's httptools protocol, the fast one, puts no bound on the size of a
request's head (a 32 MB header block was accepted and buffered). h11 has one,
but is pure Python and costs the busiest page a good share of its throughput;
this subclass keeps httptools and counts the bytes of each request head
instead, answering 431 once they pass `MAX_HEAD_BYTES`.
"""

from __future__ import annotations

import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Request line and headers together. Browsers send a few KiB; nginx's default
# buffers take 32 KiB (4 x 8k), the same as here.
MAX_HEAD_BYTES = 32 * 1024

_TOO_LARGE_BODY = b"Request header fields too large.\n"
TOO_LARGE = b"".join(
    [
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
        b"content-type: text/plain; charset=utf-8\r\n",
        b"content-length: " + str(len(_TOO_LARGE_BODY)).encode() + b"\r\n",
        b"connection: close\r\n",
        b"\r\n",
        _TOO_LARGE_BODY,
    ]
)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0 picks a free one).

    The protocol must be named: asyncio sets TCP_NODELAY only on sockets whose
    `proto` is IPPROTO_TCP, and an accepted socket inherits it from this one.
    Without it, every keep-alive response written in two parts waited ~40 ms
    for the client's delayed ACK (Nagle's algorithm).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
    """httptools, refusing request heads over `max_head_bytes` with 431.

    Bytes are counted before the parser sees them, so a giant header is cut
    off at the limit instead of being buffered whole. Body bytes are not
    counted: the count stops when the head is complete and restarts with the
    next request on the connection.
    """

    max_head_bytes = MAX_HEAD_BYTES
    _reading_head = True
    _head_bytes = 0

    def data_received(self, data: bytes) -> None:
        while data:
            if not self._reading_head:
                super().data_received(data)
                return
            room = self.max_head_bytes - self._head_bytes
            if room <= 0:
                self._refuse()
                return
            piece, data = data[:room], data[room:]
            self._head_bytes += len(piece)
            super().data_received(piece)
            if self.transport.is_closing():
                return

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True
        self._head_bytes = 0

    def _refuse(self) -> None:
        self.logger.warning("Request head over %d bytes refused (431).", self.max_head_bytes)
        self.transport.write(TOO_LARGE)
        self.transport.close()
