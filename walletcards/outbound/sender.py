"""Sends one signed event to its endpoint over a connection pinned to a checked address.

The host name is resolved here, every address it resolves to is checked
(walletcards/outbound/destinations.py), and the request goes to the first of them by IP while
keeping the name in the ``Host`` header and in TLS (SNI and the certificate check use the
name: httpcore's ``sni_hostname`` extension). No second resolution happens between the check
and the connection, so there is no gap for DNS rebinding. One httpx client per host name: a
pooled TLS connection, verified for one name, is never reused for another name that happens
to resolve to the same address. Redirects are not followed (a 3xx is a failed delivery), so
a receiver cannot bounce a delivery to an address that was not checked. :class:`EventSender`
is the service's ``EventPoster`` (walletcards/clients.py).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from walletcards.cache import KeyedCache
from walletcards.outbound.destinations import (
    IPAddress,
    address_of,
    address_problem,
    url_problem,
)

Resolver = Callable[[str, int], Sequence[str]]
TIMEOUT = 10.0


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the operating system's resolver gives for ``host`` (A and AAAA)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in found]


class Refused(Exception):
    """The destination is not allowed; the message says why. Nothing was sent."""


class Unreachable(Exception):
    """No answer (connection, TLS, timeout, a broken response); the message names the error."""


@dataclass
class EventSender:
    """``dev``: allow http and any address (WALLETCARDS_DEV=1). ``resolver`` and ``verify``
    exist for tests (a fake resolver; a test CA) and default to the system's."""

    dev: bool
    resolver: Resolver = system_resolver
    verify: ssl.SSLContext | bool = True
    _clients: KeyedCache[str, httpx.Client] = field(default_factory=KeyedCache)

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """The answer's HTTP status. Raises Refused before any byte is sent, or Unreachable."""
        target, ip = self._pin(url)
        try:
            pinned = target.copy_with(host=str(ip))
        except httpx.InvalidURL as exc:  # e.g. a link-local address with a zone, in dev
            raise Refused(f"cannot connect to {ip}: {exc}") from exc
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        client = self._clients.get(
            target.host,
            lambda: httpx.Client(timeout=TIMEOUT, verify=self.verify, follow_redirects=False),
        )
        try:
            response = client.post(
                pinned,
                content=body,
                headers={**headers, "Host": target.netloc.decode("ascii")},
                extensions=extensions,
            )
        except httpx.HTTPError as exc:
            raise Unreachable(type(exc).__name__) from exc
        return response.status_code

    def _pin(self, url: str) -> tuple[httpx.URL, IPAddress]:
        problem = url_problem(url, dev=self.dev)
        if problem is not None:
            raise Refused(problem)
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise Refused(f"not a valid URL: {exc}") from exc
        literal = address_of(target.host)
        if literal is not None:
            addresses = [literal]
        else:
            port = target.port or (443 if target.scheme == "https" else 80)
            try:
                found = self.resolver(target.host, port)
            except (OSError, UnicodeError) as exc:
                raise Refused(f"{target.host} does not resolve ({exc})") from exc
            addresses = [ip for ip in map(address_of, found) if ip is not None]
        problem = address_problem(target.host, addresses, dev=self.dev)
        if problem is not None:
            raise Refused(problem)
        return target, addresses[0]

    def close(self) -> None:
        for client in self._clients.take_all():
            client.close()
