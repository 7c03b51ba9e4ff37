"""Where an outgoing webhook may go: http(s) only, and (unless the installation allows
it) not to loopback, private, link-local or otherwise reserved addresses, so that an
endpoint cannot be aimed at the installation's own network (SSRF).

Endpoints are configured by an organization's admins, not by anyone on the internet;
the check is a second line. The name is resolved again at every delivery, and every
address it resolves to must be public.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class RefusedAddress(ValueError):
    """The endpoint's address is not one webhooks may go to; the message says why."""


def _refused_ip(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_url_shape(url: str, *, allow_private: bool) -> str:
    """The host of `url`, or `RefusedAddress`: http or https, a host, no user name
    or password, and (unless allowed) no literal private address or `localhost`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RefusedAddress("Use a web address starting with https:// (or http://).")
    if parts.username or parts.password:
        raise RefusedAddress("Leave the user name and password out of the address.")
    host = parts.hostname
    if not host:
        raise RefusedAddress("The address needs a host name, like https://ats.example.com/hook.")
    if allow_private:
        return host
    if host == "localhost" or host.endswith(".localhost"):
        raise RefusedAddress("Webhooks cannot go to this server itself (localhost).")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return host
    if _refused_ip(literal):
        raise RefusedAddress(
            "Webhooks cannot go to a private, loopback or reserved address: use a public one."
        )
    return host


async def check_destination(url: str, *, allow_private: bool) -> None:
    """`check_url_shape`, then every address the host resolves to (unless allowed)."""
    host = check_url_shape(url, allow_private=allow_private)
    if allow_private:
        return
    port = urlsplit(url).port or (443 if url.startswith("https") else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise RefusedAddress(f"The host name does not resolve: {exc.strerror or exc}") from exc
    for info in infos:
        if _refused_ip(ipaddress.ip_address(info[4][0])):
            raise RefusedAddress(
                "The host name resolves to a private, loopback or reserved address."
            )
