"""What every adapter parses a webhook into: source-neutral order events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

# RefundInfo is the domain's (loyalty.awards applies it); adapters name it from here too.
from walletcards.loyalty.rules import OrderFacts
from walletcards.loyalty.rules import RefundInfo as RefundInfo


class PayloadError(ValueError):
    """A signed body that is not what the source documents; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class UnknownShop(LookupError):
    """A delivery whose (unsigned) shop header is not the shop the programme pins (401)."""


@dataclass(frozen=True)
class Verified:
    """A body whose signature checked, with its headers (lower-case names): the only thing a
    source parses. Made by the source's ``verify``, or by a replay from the inbox, which keeps
    only deliveries that were verified when they arrived."""

    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class CustomerInfo:
    external_id: str | None = None  # namespaced by source, e.g. "shopify:shop.myshopify.com:42"
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    birthday: date | None = None
    locale: str | None = None

    @property
    def identifiable(self) -> bool:
        return bool(self.external_id or self.email)


@dataclass(frozen=True)
class OrderEvent:
    """One effect on one order. ``kind``: paid, refund (one refund), cancel (reverse the rest)."""

    kind: Literal["paid", "refund", "cancel"]
    source: str  # e.g. "shopify:demo.myshopify.com", "woocommerce:shop.example", "orders"
    order_id: str
    customer: CustomerInfo
    facts: OrderFacts | None = None  # for paid
    refunds: tuple[RefundInfo, ...] = ()  # for refund, and refunds nested in a cancellation
    codes: tuple[str, ...] = ()  # for paid: its discount codes, upper-case (payload.MAX_CODES)
    test: bool = False
    referral: str | None = None  # for paid: the referral code it carries (loyalty/referrals.py)
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery as received (after its signature was verified)."""

    source: str  # shopify | woocommerce | orders
    shop: str  # the programme's pinned shop (canonical, see loyalty/config_webhooks.py); "" ours
    topic: str
    delivery_id: str
    event_id: str | None
    triggered_at: datetime | None
    events: tuple[OrderEvent, ...] = field(default=())
    ignored_reason: str | None = None  # set when the topic or payload is not ours to apply
