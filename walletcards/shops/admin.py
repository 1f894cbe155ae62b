"""What walletcards needs from a shop's own admin API, whatever the platform.

One protocol, :class:`ShopAdmin`, with a real client per platform (``shopify_admin``,
``woocommerce_admin``) and :class:`walletcards.shops.memory.MemoryShop` for fast unit tests.
Failures come in two kinds only, so callers need not know the platform: :class:`ShopRefused`
(permanent: the shop said no — a user error, a 4xx; retrying the same call cannot help) and
:class:`ShopUnavailable` (transient: a 5xx, a network error, throttling that outlasted our
retries; the caller retries later).

Topics are named the way our webhook intake names them (``orders/paid``, ``order.updated``);
order payloads have the shape our webhooks receive, so the intake can apply them unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from walletcards.money import MoneyError, exponent

OrderPayload = dict[str, Any]


class ShopError(Exception):
    """Base of the two failures a shop admin client raises."""


class ShopRefused(ShopError):
    """The shop refused the call for good (userErrors, a 4xx): ``code`` is the shop's own."""

    def __init__(self, message: str, code: str = "REFUSED") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return f"{self.message} ({self.code})"


class ShopUnavailable(ShopError):
    """The call may succeed later: a 5xx, a network failure, throttled beyond our retries."""


@dataclass(frozen=True)
class ShopCode:
    """A discount code created in the shop: the shop's id for it (to delete it) and the code."""

    id: str
    code: str


@dataclass(frozen=True)
class Subscription:
    """A webhook subscription: the shop's id, our topic name, the delivery URL."""

    id: str
    topic: str
    url: str


@dataclass(frozen=True)
class OrdersPage:
    """One page of orders updated since a time, oldest change first where the shop sorts so;
    ``cursor`` fetches the next page, ``None`` when this is the last."""

    orders: list[OrderPayload] = field(default_factory=list)
    cursor: str | None = None


class ShopAdmin(Protocol):
    """A shop's admin API, as far as spending points online needs it."""

    def create_code(
        self,
        code: str,
        amount: Decimal,
        currency: str,
        customer_ref: str | None,
        email: str | None,
        expires_at: datetime,
        *,
        minimum: Decimal | None = None,
    ) -> ShopCode:
        """A single-use code worth ``amount`` off the order until ``expires_at``, limited to
        the customer where the shop can (its customer id, else its e-mail); ``minimum``: the
        order subtotal the code needs (``[redemption] max_share``), None for none."""
        ...

    def delete_code(self, id: str) -> None:
        """Delete a code for good (ShopRefused when the shop knows no such code)."""
        ...

    def list_webhooks(self) -> list[Subscription]: ...

    def create_webhook(self, topic: str, url: str, secret: str | None = None) -> Subscription:
        """Subscribe ``url`` to ``topic``; ``secret`` signs deliveries where the platform lets
        a subscriber choose it (WooCommerce; Shopify signs with the app's own secret)."""
        ...

    def orders_updated_since(self, since: datetime, cursor: str | None = None) -> OrdersPage:
        """Orders changed after ``since``, as webhook-shaped payloads, one page at a time."""
        ...

    def tag_customer(self, customer_ref: str, add: Sequence[str], remove: Sequence[str]) -> None:
        """Mark the customer's tier in the shop (Shopify tags, WooCommerce customer meta)."""
        ...


def check_minimum(minimum: Decimal | None, currency: str) -> str | None:
    """The minimum order subtotal as the shop's decimal string (None: no minimum), refused
    locally like the amount when it is not a positive amount of the currency."""
    if minimum is None:
        return None
    if not minimum.is_finite() or minimum <= 0:
        raise ShopRefused("the minimum order must be positive", "INVALID")
    return _exact(minimum, currency)


def _exact(amount: Decimal, currency: str) -> str:
    places = exponent(currency)
    try:
        exact = amount.quantize(Decimal(1).scaleb(-places))
    except ArithmeticError as exc:  # pragma: no cover - huge amounts
        raise ShopRefused(f"{amount} is not a {currency} amount", "INVALID") from exc
    if exact != amount:
        raise ShopRefused(
            str(MoneyError(f"{amount} has more decimals than {currency} allows")), "INVALID"
        )
    return format(exact, "f")


def check_code_request(
    code: str, amount: Decimal, currency: str, now: datetime, expires_at: datetime
) -> str:
    """The amount as the shop's decimal string, after the checks every platform needs: a code,
    a positive amount in whole minor units, an aware expiry after ``now``. Refused locally
    (ShopRefused), the same way by every implementation, before any request is sent."""
    if not code or len(code) > 255 or code != code.strip():
        raise ShopRefused("a code must be 1-255 characters without outer blanks", "INVALID")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    if expires_at <= now:
        raise ShopRefused("the code would expire before it starts", "EXPIRED")
    if not amount.is_finite() or amount <= 0:
        raise ShopRefused("the amount off must be positive", "INVALID")
    return _exact(amount, currency)
