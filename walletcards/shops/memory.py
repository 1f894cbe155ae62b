"""An in-memory shop for fast unit tests: records codes, webhooks, orders and tags, and can be
scripted to refuse or to be unavailable for the next calls of an operation.

It keeps the contract the real clients keep against their loopback fakes (tests/shops/
test_contract.py runs one scenario against all three): a code is unique while it exists,
deleting an unknown code is refused, orders come back sorted by update time in pages.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from walletcards.clock import Clock, SystemClock, as_utc
from walletcards.shops.admin import (
    OrderPayload,
    OrdersPage,
    ShopCode,
    ShopError,
    ShopRefused,
    ShopUnavailable,
    Subscription,
    check_code_request,
    check_minimum,
)


@dataclass(frozen=True)
class MemoryCode:
    """What the shop was asked to create, as the shop would hold it."""

    id: str
    code: str
    amount: str
    currency: str
    customer_ref: str | None
    email: str | None
    expires_at: datetime
    minimum: str | None = None  # the order subtotal the code needs


@dataclass
class MemoryShop:
    clock: Clock = field(default_factory=SystemClock)
    page_size: int = 50
    codes: dict[str, MemoryCode] = field(default_factory=dict)
    webhooks: list[Subscription] = field(default_factory=list)
    orders: list[tuple[datetime, OrderPayload]] = field(default_factory=list)
    tags: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    calls: list[str] = field(default_factory=list)
    script: dict[str, list[ShopError]] = field(default_factory=lambda: defaultdict(list))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def refuse_next(self, operation: str, message: str, code: str = "REFUSED") -> None:
        """The next call of ``operation`` (a method name) raises ShopRefused."""
        self.script[operation].append(ShopRefused(message, code))

    def fail_next(self, operation: str, times: int = 1) -> None:
        """The next ``times`` calls of ``operation`` raise ShopUnavailable."""
        failures = (ShopUnavailable(f"{operation}: scripted") for _ in range(times))
        self.script[operation].extend(failures)

    def add_order(self, updated_at: datetime, payload: OrderPayload) -> None:
        """An order as the shop would report it (replaces an earlier version of the same id)."""
        self.orders = [(t, o) for t, o in self.orders if o.get("id") != payload.get("id")]
        self.orders.append((as_utc(updated_at), payload))

    def _call(self, operation: str) -> None:
        self.calls.append(operation)
        if self.script[operation]:
            raise self.script[operation].pop(0)

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
        self._call("create_code")
        text = check_code_request(code, amount, currency, self.clock.now(), expires_at)
        least = check_minimum(minimum, currency)
        if any(c.code.casefold() == code.casefold() for c in self.codes.values()):
            raise ShopRefused(f"the code {code!r} is taken", "TAKEN")
        made = MemoryCode(
            str(next(self._ids)),
            code,
            text,
            currency,
            customer_ref,
            email,
            as_utc(expires_at),
            least,
        )
        self.codes[made.id] = made
        return ShopCode(made.id, code)

    def delete_code(self, id: str) -> None:
        self._call("delete_code")
        if self.codes.pop(id, None) is None:
            raise ShopRefused(f"no code {id}", "NOT_FOUND")

    def list_webhooks(self) -> list[Subscription]:
        self._call("list_webhooks")
        return list(self.webhooks)

    def create_webhook(self, topic: str, url: str, secret: str | None = None) -> Subscription:
        self._call("create_webhook")
        made = Subscription(str(next(self._ids)), topic, url)
        self.webhooks.append(made)
        return made

    def orders_updated_since(self, since: datetime, cursor: str | None = None) -> OrdersPage:
        self._call("orders_updated_since")
        newer = sorted(
            ((t, o) for t, o in self.orders if t > as_utc(since)), key=lambda item: item[0]
        )
        start = int(cursor or 0)
        chunk = newer[start : start + self.page_size]
        more = start + self.page_size < len(newer)
        return OrdersPage([o for _, o in chunk], str(start + self.page_size) if more else None)

    def tag_customer(self, customer_ref: str, add: Sequence[str], remove: Sequence[str]) -> None:
        self._call("tag_customer")
        self.tags[customer_ref].difference_update(remove)
        self.tags[customer_ref].update(add)
