"""walletcards' own order format for any shop or CRM (documented in docs/webhooks.md).

Body: ``{"id", "type": "order.paid" | "order.refunded" | "order.cancelled", "order": {...},
"customer": {...}, "refund": {...}}``; header ``Walletcards-Signature: t=<unix>,v1=<hex>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.orders.events import (
    CustomerInfo,
    Delivery,
    OrderEvent,
    PayloadError,
    RefundInfo,
    Verified,
)
from walletcards.orders.identity import customer_external_id
from walletcards.orders.payload import (
    MAX_DELIVERY_ID,
    MAX_EMAIL,
    MAX_ID,
    MAX_NAME,
    MAX_PHONE,
    MAX_TOPIC,
    birthday,
    bounded,
    code_list,
    email,
    ident,
    items,
    minor,
    obj,
    parse_json,
    text,
    timestamp,
)
from walletcards.orders.signatures import verify_timestamped

SIGNATURE_HEADER = "walletcards-signature"
NAME = "orders"
MAX_REFERRAL = 40  # a referral code (loyalty/referral_codes.py) is at most 21 characters
TYPES = ("order.paid", "order.refunded", "order.cancelled")


class SignedJson:
    """The ``orders`` source (see ``walletcards.orders.sources.Source``): it names no shop, and
    everything that matters (id, type) is in the signed body."""

    name = NAME
    secret_keys = ("orders_secret", "orders_previous_secret")
    pin_key = None

    def canonical_shop(self, value: str) -> str:
        return ""  # our format names no shop

    def ping(self, body: bytes) -> str | None:
        return None

    def verify(
        self, headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: float
    ) -> Verified:
        verify_timestamped(headers.get(SIGNATURE_HEADER), body, secrets, now)
        return Verified(headers, body)

    def parse(self, verified: Verified, currency: str, shop: str) -> Delivery:
        return read(parse_json(verified.body), currency)

    def replay_headers(self, kept: Delivery) -> dict[str, str]:
        return {}  # the body says it all; a replay's new delivery id replaces the event id


def _lines(data: dict[str, Any], path: str, currency: str) -> tuple[OrderLine, ...]:
    lines = []
    for i, line in enumerate(items(data, "lines", path)):
        where = f"{path}lines[{i}]."
        if "amount" not in line:
            raise PayloadError(f"{where}amount", "is required")
        lines.append(
            OrderLine(
                minor(line["amount"], currency, f"{where}amount"),
                sku=text(line, "sku", where),
                brand=text(line, "brand", where),
                product_type=text(line, "product_type", where),
            )
        )
    bounded(sum(line.amount_minor for line in lines), f"{path}lines")
    return tuple(lines)


def _customer(data: dict[str, Any]) -> CustomerInfo:
    customer = obj(data, "customer", "", required=False)
    external = text(customer, "id", "customer.", limit=MAX_ID)
    locale = text(customer, "locale", "customer.")
    return CustomerInfo(
        external_id=customer_external_id(NAME, external) if external else None,
        email=email(text(customer, "email", "customer.", limit=MAX_EMAIL), "customer.email"),
        phone=text(customer, "phone", "customer.", limit=MAX_PHONE),
        name=text(customer, "name", "customer.", limit=MAX_NAME),
        birthday=birthday(customer.get("birthday"), "customer.birthday"),
        locale=locale[:2].lower() if locale else None,
    )


def read(payload: dict[str, Any], currency: str) -> Delivery:
    event_id = text(payload, "id", "", required=True, limit=MAX_DELIVERY_ID) or ""
    kind = text(payload, "type", "", required=True, limit=MAX_TOPIC)
    base = Delivery(
        source=NAME,
        shop="",
        topic=kind or "",
        delivery_id=event_id,
        event_id=event_id,
        triggered_at=timestamp(payload.get("created_at"), "created_at"),
    )
    if kind not in TYPES:
        return replace(base, ignored_reason=f"type {kind!r} is not one we apply")
    order = obj(payload, "order", "")
    order_id = ident(order, "id", "order.")
    order_currency = text(order, "currency", "order.", required=True)
    if order_currency != currency:
        raise PayloadError("order.currency", f"{order_currency} is not the programme's {currency}")
    customer = _customer(payload)
    if kind == "order.paid":
        paid_at = timestamp(order.get("paid_at"), "order.paid_at")
        if paid_at is None:
            raise PayloadError("order.paid_at", "is required")
        lines = _lines(order, "order.", currency)
        if not lines:
            raise PayloadError("order.lines", "needs at least one line")
        facts = OrderFacts(
            NAME,
            order_id,
            currency,
            paid_at,
            lines,
            minor(order.get("shipping", "0"), currency, "order.shipping"),
            minor(order.get("tax", "0"), currency, "order.tax"),
        )
        codes = code_list(order.get("redemption_codes"), "order.redemption_codes")
        referral = text(order, "referral_code", "order.", limit=MAX_REFERRAL)
        event = OrderEvent(
            "paid",
            NAME,
            order_id,
            customer,
            facts=facts,
            codes=codes,
            referral=referral.strip().lower() if referral else None,
        )
    elif kind == "order.refunded":
        refund = obj(payload, "refund", "")
        key = f"{NAME}:refund:{ident(refund, 'id', 'refund.')}"
        lines = _lines(refund, "refund.", currency)
        amount = refund.get("amount")
        if not lines and amount is None:
            raise PayloadError("refund", "needs either amount or lines")
        info = RefundInfo(
            key=key,
            lines=lines,
            shipping_minor=minor(refund.get("shipping", "0"), currency, "refund.shipping"),
            tax_minor=minor(refund.get("tax", "0"), currency, "refund.tax"),
            amount_minor=None if lines else minor(amount, currency, "refund.amount"),
        )
        event = OrderEvent("refund", NAME, order_id, customer, refunds=(info,))
    else:
        event = OrderEvent("cancel", NAME, order_id, customer)
    return replace(base, events=(event,))
