"""The shop platforms that sign the raw body with base64 HMAC-SHA256 in one header and name their
shop in another, unsigned one (Shopify, WooCommerce): what their ``Source`` classes share.

A subclass states only what differs: its name, its ``[webhooks]`` keys, its signature header,
its canonical shop, how it reads a JSON body (``read``, which checks the shop header against the
pin with ``check_pinned``) and its replay headers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from walletcards.orders.events import Delivery, UnknownShop, Verified
from walletcards.orders.payload import parse_json
from walletcards.orders.signatures import verify_base64_hmac


class PinnedHmacSource(ABC):
    """A ``walletcards.orders.sources.Source`` whose body carries a base64 HMAC-SHA256 in
    ``signature_header`` (lower-case) and whose shop is the one ``pin_key`` pins."""

    name: str
    secret_keys: tuple[str, str]
    pin_key: str
    signature_header: str

    @abstractmethod
    def canonical_shop(self, value: str) -> str:
        """A shop as pinned, compared and identified; ValueError when ``value`` is not one."""

    @abstractmethod
    def read(
        self, headers: Mapping[str, str], payload: dict[str, Any], currency: str, shop: str
    ) -> Delivery:
        """The delivery of a verified JSON body to the programme pinning ``shop``."""

    @abstractmethod
    def replay_headers(self, kept: Delivery) -> dict[str, str]:
        """The headers under which ``read`` reads ``kept``'s stored body again."""

    def ping(self, body: bytes) -> str | None:
        return None  # no set-up ping unless the platform says otherwise

    def verify(
        self, headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: float
    ) -> Verified:
        verify_base64_hmac(headers.get(self.signature_header), body, secrets)
        return Verified(headers, body)

    def parse(self, verified: Verified, currency: str, shop: str) -> Delivery:
        return self.read(verified.headers, parse_json(verified.body), currency, shop)


def check_pinned(
    claimed: str,
    pinned: str,
    canonical: Callable[[str], str],
    header: str,
    what: str,
    pin_key: str,
) -> None:
    """UnknownShop unless the shop named in the unsigned ``header`` is the pinned one."""
    try:
        same = canonical(claimed) == pinned
    except ValueError:
        same = False
    if not same:
        raise UnknownShop(
            f"{header} {claimed[:80]!r} is not the {what} this programme trusts "
            f"(webhooks.{pin_key})"
        )
