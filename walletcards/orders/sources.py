"""Webhook sources: what each shop platform's adapter offers, and the one registry of them.

A source is named in the webhook URL (``POST /webhooks/<slug>/<name>``), in the inbox and in
the metrics. Its ``[webhooks]`` keys hold its signing secrets and, for a platform whose shop
header is not signed, the one shop the programme trusts (loyalty/config_webhooks.py). The view,
``inbox replay``, the programme file's checks and the import all ask ``SOURCES``; adding a
platform is one module with a class like ``shopify.Shopify`` and one line below.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Protocol

from walletcards.orders.events import Delivery, UnknownShop, Verified
from walletcards.orders.shopify import Shopify
from walletcards.orders.signed_json import SignedJson
from walletcards.orders.woocommerce import WooCommerce


class Source(Protocol):
    """One webhook adapter: its programme-file keys, its signature, its bodies, its replays."""

    @property
    def name(self) -> str:
        """The URL's source segment; the inbox's and the metrics' label."""

    @property
    def secret_keys(self) -> tuple[str, str]:
        """The ``[webhooks]`` keys of its signing secrets: the current one, then the one also
        accepted during a rotation."""

    @property
    def pin_key(self) -> str | None:
        """The ``[webhooks]`` key pinning the one shop the programme trusts; None when the
        deliveries name no shop (then the shop is "" everywhere)."""

    def canonical_shop(self, value: str) -> str:
        """A shop as pinned, compared and identified; ValueError when ``value`` is not one."""

    def ping(self, body: bytes) -> str | None:
        """The detail answered (200, unsigned) to the platform's set-up ping, or None when
        ``body`` is not one."""

    def verify(
        self, headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: float
    ) -> Verified:
        """The delivery when one of ``secrets`` signed ``body`` (headers lower-case, ``now``
        in Unix seconds); SignatureError otherwise."""

    def parse(self, verified: Verified, currency: str, shop: str) -> Delivery:
        """The order events of a verified delivery to the programme pinning ``shop``
        (canonical; "" without a pin); PayloadError or UnknownShop for a body or a shop
        header that is not what the platform sends."""

    def replay_headers(self, kept: Delivery) -> dict[str, str]:
        """The headers under which ``parse`` reads ``kept``'s stored body again (``inbox
        replay``, with the replay's own delivery id)."""


def _registry(*sources: Source) -> Mapping[str, Source]:
    return MappingProxyType({source.name: source for source in sources})


SOURCES: Mapping[str, Source] = _registry(
    Shopify(),
    WooCommerce(),
    SignedJson(),
)


def parse_delivery(source: Source, verified: Verified, currency: str, shop: str | None) -> Delivery:
    """``verified`` read by ``source`` for a programme whose pinned shop is ``shop`` (None: it
    pins none, which a source with a ``pin_key`` refuses rather than trust the shop header)."""
    if source.pin_key is not None and shop is None:
        raise UnknownShop(f"the programme pins no {source.name} shop (docs/webhooks.md)")
    return source.parse(verified, currency, shop or "")
