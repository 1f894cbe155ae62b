"""Where outbound events may be sent. A manager edits the ``[[events]]`` URLs over the API, so
each URL is a request the service makes on someone's word (server-side request forgery): in
production only ``https`` to public unicast addresses, never to the service's own network
(``http://127.0.0.1:5432/``, a cloud metadata address, a private LAN).

Checked twice:
- when a programme is applied (``walletcards program apply``, ``PUT settings``):
  :func:`url_problem` — the URL's form, ``https``, and a literal address (or ``localhost``);
- before every delivery (walletcards/outbound/sender.py): the host name is resolved, every
  address it resolves to must pass :func:`non_public_kind`, and the connection goes to the
  address that was checked, so a name that is public when checked and 127.0.0.1 when
  connected (DNS rebinding) gets nothing.

With ``WALLETCARDS_DEV=1`` http and any address are allowed (a receiver on loopback).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL = 500  # OutboundEvent.endpoint_url
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
HOST_RE = re.compile(r"[\w.-]+")  # a DNS name (IDN letters allowed); no %, @, \, spaces
# WHATWG URL: a host whose last label is a number is an IPv4 address, and `0x7f.1`,
# `2130706433` or `0177.0.0.1` all mean 127.0.0.1 to browsers and to inet_aton()
NUMERIC_LABEL = re.compile(r"(?:\d+|0x[0-9a-f]*)", re.IGNORECASE)


def address_of(host: str) -> IPAddress | None:
    """The address if ``host`` is a literal IP (``::1``, ``fe80::1%eth0``, ``10.0.0.1``)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def non_public_kind(ip: IPAddress) -> str | None:
    """Why ``ip`` may not receive events ("loopback", "private", ...); None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return non_public_kind(ip.ipv4_mapped)
        if ip in NAT64:
            return non_public_kind(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        tunnelled = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if tunnelled is not None and non_public_kind(tunnelled):
            return f"{non_public_kind(tunnelled)} (tunnelled)"
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("non-global", not ip.is_global),  # e.g. 100.64.0.0/10, carrier-grade NAT
    )
    return next((kind for kind, hit in checks if hit), None)


def form_problem(url: str) -> str | None:
    """What is wrong with ``url`` in any mode: an absolute http(s) URL with a host name or a
    dotted-decimal/bracketed IP, no user or password, at most 500 characters."""
    if len(url) > MAX_URL:
        return f"at most {MAX_URL} characters"
    if any(c.isspace() or not c.isprintable() or c == "\\" for c in url):
        return "must not contain spaces, control characters or backslashes"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number 0-65535)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http(s) URL"
    host = parts.hostname
    if not host:
        return "needs a host"
    if "@" in parts.netloc:
        return "must not carry a user name or password"
    if address_of(host) is None:
        labels = host.rstrip(".").split(".")
        if NUMERIC_LABEL.fullmatch(labels[-1]):
            return f"{host!r} is not an IP address; write one as four decimal numbers a.b.c.d"
        if not HOST_RE.fullmatch(host):
            return f"{host!r} is not a host name"
    return None


def url_problem(url: str, *, dev: bool) -> str | None:
    """Why events may not go to ``url`` (None: they may, subject to the check at delivery)."""
    problem = form_problem(url)
    if problem is not None or dev:
        return problem
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "must be https (http only in development, WALLETCARDS_DEV=1)"
    host = (parts.hostname or "").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):  # RFC 6761: always loopback
        return f"{host} is a loopback name"
    literal = address_of(host)
    kind = non_public_kind(literal) if literal is not None else None
    if kind is not None:
        return f"{literal} is a {kind} address"
    return None


def address_problem(host: str, addresses: list[IPAddress], *, dev: bool) -> str | None:
    """Why a connection to ``host``, resolved to ``addresses``, is refused (None: allowed).
    One non-public address refuses all: a resolver under an attacker's control could
    return a public and a private one and let the connection pick."""
    if not addresses:
        return f"{host} resolves to no address"
    if dev:
        return None
    for ip in addresses:
        kind = non_public_kind(ip)
        if kind is not None:
            return f"{host} resolves to {ip}, a {kind} address"
    return None
