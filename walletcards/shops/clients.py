"""The shops' admin APIs as one outside system (:class:`walletcards.clients.ShopAdmins`): the
programme's ``[shopify]`` or ``[woocommerce]`` table (loyalty/config_shops.py) picks the real
client, made on first use and kept per credentials in a :class:`KeyedCache`, so a changed table
gets a new client and two programmes sharing a shop and a key share one.

``WALLETCARDS_SHOPIFY_API_URL`` / ``WALLETCARDS_WOOCOMMERCE_API_URL`` send every programme's
calls to one base URL instead of the shop's own (loopback fakes in tests). Plain http is
allowed in development only (``WALLETCARDS_DEV``): the token or key would travel in clear.
"""

from __future__ import annotations

import ssl
from collections.abc import Hashable
from typing import TYPE_CHECKING

from walletcards.cache import KeyedCache
from walletcards.clock import Clock, SystemClock
from walletcards.loyalty.config_tables import ProgramSecret
from walletcards.loyalty.programs import program_config
from walletcards.settings import Secret
from walletcards.shops.admin import ShopAdmin, ShopUnavailable
from walletcards.shops.shopify_admin import ShopifyAdmin
from walletcards.shops.woocommerce_admin import WooCommerceAdmin

if TYPE_CHECKING:
    from walletcards.loyalty.models import Program
    from walletcards.settings import Settings

PLATFORMS = ("shopify", "woocommerce")


def _value(secret: ProgramSecret, field: str) -> Secret:
    """The secret now; ShopUnavailable naming the variable while it is unset here (the
    server's misconfiguration: the call can succeed once the operator sets it)."""
    value = secret.reveal()
    if value is None:
        raise ShopUnavailable(f"{field}: the environment variable {secret.variable} is not set")
    return Secret(value)


class ShopClients:
    """The real :class:`~walletcards.clients.ShopAdmins`."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock | None = None,
        *,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._shopify_url = settings.shopify_api_url
        self._woocommerce_url = settings.woocommerce_api_url
        self._dev = settings.dev
        self._clock = clock or SystemClock()
        self._verify = verify
        self._clients: KeyedCache[Hashable, ShopifyAdmin | WooCommerceAdmin] = KeyedCache()

    def for_program(self, program: Program, platform: str | None = None) -> ShopAdmin | None:
        """The admin API of the programme's shop on ``platform`` (None: the one it configures,
        Shopify first), or None when its file gives no such table."""
        config = program_config(program)
        if platform in (None, "shopify") and config.shopify is not None:
            table = config.shopify
            token = _value(table.admin_token, "shopify.admin_token")
            base = self._shopify_url

            def shopify() -> ShopifyAdmin:
                return ShopifyAdmin(
                    table.shop_domain,
                    token,
                    version=table.api_version,
                    base_url=base,
                    clock=self._clock,
                    verify=self._verify,
                    allow_http=self._dev,
                )

            return self._clients.get(
                ("shopify", table.shop_domain, table.api_version, base, token), shopify
            )
        if platform in (None, "woocommerce") and config.woocommerce is not None:
            woo = config.woocommerce
            consumer_key = _value(woo.consumer_key, "woocommerce.consumer_key")
            consumer_secret = _value(woo.consumer_secret, "woocommerce.consumer_secret")
            site = self._woocommerce_url or woo.site_url

            def woocommerce() -> WooCommerceAdmin:
                return WooCommerceAdmin(
                    site,
                    consumer_key,
                    consumer_secret,
                    clock=self._clock,
                    individual_use=woo.individual_use,
                    allow_http=self._dev,
                    verify=self._verify,
                )

            return self._clients.get(
                ("woocommerce", site, woo.individual_use, consumer_key, consumer_secret),
                woocommerce,
            )
        return None

    def close(self) -> None:
        for client in self._clients.take_all():
            client.close()
