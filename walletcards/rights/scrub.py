"""Removing one person's values from text we keep for other reasons: stored webhook bodies,
outbound event payloads, the till's stored answers, ledger memos.

A :class:`Person` is what identifies them (name, email, phone and its digits, the shop's
customer id). Strings containing one of the values get it replaced (case-insensitively) by
``[erased]``; a string that is their phone in another spelling (same digits) is replaced
whole. In the bodies of their own orders (``personal_keys=True``) the subtrees a shop uses for
a person (customer, billing and shipping addresses, contact email and phone, IP address, the
customer's note) go as a whole, so an address or a first name alone does not remain.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from walletcards.loyalty.cards import phone_key
from walletcards.loyalty.models import Customer

ERASED = "[erased]"
# Shopify's, WooCommerce's and our own webhook bodies: where a person is described
PERSONAL_KEYS = frozenset(
    {
        "customer",
        "billing",
        "shipping",
        "billing_address",
        "shipping_address",
        "default_address",
        "addresses",
        "email",
        "contact_email",
        "phone",
        "browser_ip",
        "client_details",
        "customer_ip_address",
        "customer_user_agent",
        "customer_note",
        "note",
        "note_attributes",
    }
)
MIN_VALUE = 3  # shorter values would erase parts of unrelated words


@dataclass(frozen=True)
class Person:
    values: tuple[str, ...]  # name, email, phone, the shop's raw customer id (non-empty ones)
    digits: str | None  # the phone's digits (customers.phone_key)
    shop_id: str | None  # the shop's own customer id (external_id without its namespace)

    @classmethod
    def of(cls, customer: Customer) -> Person:
        shop_id = None
        if customer.external_id and ":customer:" in customer.external_id:
            shop_id = customer.external_id.rpartition(":customer:")[2] or None
        digits = customer.phone_key or phone_key(customer.phone)
        values = [customer.name, customer.email, customer.phone, customer.external_id]
        values += [shop_id, digits]
        kept = sorted(
            {v.strip() for v in values if v and len(v.strip()) >= MIN_VALUE}, key=len, reverse=True
        )
        return cls(tuple(kept), digits, shop_id)

    @property
    def pattern(self) -> re.Pattern[str] | None:
        if not self.values:
            return None
        return re.compile("|".join(re.escape(v) for v in self.values), re.IGNORECASE)

    def mentioned_in(self, text: str | None) -> bool:
        pattern = self.pattern
        return bool(text) and pattern is not None and pattern.search(text or "") is not None


def scrub_text(person: Person, text: str) -> str:
    """``text`` without the person's values."""
    if person.digits and phone_key(text) == person.digits and len(text) <= 40:
        return ERASED
    pattern = person.pattern
    return pattern.sub(ERASED, text) if pattern is not None else text


def scrub_json(person: Person, value: Any, *, personal_keys: bool = False) -> Any:
    """A copy of a JSON value without the person's values (and, with ``personal_keys``,
    without the subtrees that describe a person)."""
    if isinstance(value, dict):
        found: dict[str, Any] = {}
        for key, item in value.items():
            if personal_keys and key in PERSONAL_KEYS and item not in (None, "", [], {}):
                found[key] = ERASED
            elif key == "customer_id" and person.shop_id and str(item) == person.shop_id:
                found[key] = 0 if isinstance(item, int) else ERASED
            else:
                found[key] = scrub_json(person, item, personal_keys=personal_keys)
        return found
    if isinstance(value, list):
        return [scrub_json(person, item, personal_keys=personal_keys) for item in value]
    if isinstance(value, str):
        return scrub_text(person, value)
    return value


def scrub_body(person: Person, body: str, *, personal_keys: bool = False) -> str:
    """A stored request body (JSON when it is, else text) without the person's values."""
    try:
        data = json.loads(body)
    except ValueError:
        return scrub_text(person, body)
    return json.dumps(scrub_json(person, data, personal_keys=personal_keys), ensure_ascii=False)
