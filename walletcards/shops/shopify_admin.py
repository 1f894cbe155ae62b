"""The Shopify Admin GraphQL client behind :class:`~walletcards.shops.admin.ShopAdmin`.

The client speaks the API version it is configured for (default :data:`DEFAULT_VERSION`);
where Shopify renamed an input, the shape is chosen per version, explicitly:

- API 2025-10 and later (and ``unstable``): discounts name their buyers in ``context``
  (``customerSelection`` is deprecated: shopify.dev/changelog/discount-eligibility-management)
  and webhook subscriptions take and show ``uri`` (``callbackUrl`` is deprecated:
  shopify.dev/changelog/consolidate-webhook-graphql-surfaces).
- Older versions: ``customerSelection`` and ``callbackUrl`` (read as ``endpoint``).

Tests check the older shape against Shopify's published 2025-01 schema and the newer one
against that schema extended by the two changelog entries (tests/fakes/shopify_admin.py).

A code is a fixed amount off the whole order (``appliesOnEachItem: false`` spreads it over the
items), one use in all (``usageLimit: 1``) and once per customer, limited to the customer when
their Shopify id is known; Shopify cannot limit a code to an e-mail address, so ``email`` is
not sent. The amount is in the shop's currency (Shopify has no currency on a discount). Under
``[redemption] max_share`` the code needs a minimum subtotal (``minimumRequirement``).
"""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from walletcards.clock import Clock, SystemClock, as_utc
from walletcards.settings import Secret
from walletcards.shops import shopify_orders as orders
from walletcards.shops.admin import (
    OrdersPage,
    ShopCode,
    ShopRefused,
    ShopUnavailable,
    Subscription,
    check_code_request,
    check_minimum,
)
from walletcards.shops.shopify_graphql import ShopifyGraphQL, user_errors

DEFAULT_VERSION = "2026-10"
NEW_SHAPES_FROM = "2025-10"  # context / uri (see the module docstring)
_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")

CREATE_CODE = """
mutation WalletcardsCreateCode($input: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $input) {
    codeDiscountNode { id }
    userErrors { field message code }
  }
}"""
DELETE_CODE = """
mutation WalletcardsDeleteCode($id: ID!) {
  discountCodeDelete(id: $id) { deletedCodeDiscountId userErrors { field message code } }
}"""
CREATE_WEBHOOK = """
mutation WalletcardsCreateWebhook($topic: WebhookSubscriptionTopic!,
                                  $input: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $input) {
    webhookSubscription { %s }
    userErrors { field message }
  }
}"""
LIST_WEBHOOKS = """
query WalletcardsWebhooks($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    nodes { %s }
    pageInfo { hasNextPage endCursor }
  }
}"""
TAGS = """
mutation WalletcardsTags%(op)s($id: ID!, $tags: [String!]!) {
  %(field)s(id: $id, tags: $tags) { node { id } userErrors { field message } }
}"""
NEW_SUBSCRIPTION = "id topic uri"
OLD_SUBSCRIPTION = "id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } }"


def shopify_topic(topic: str) -> str:
    """Our topic name (the webhook's ``X-Shopify-Topic``) -> the GraphQL enum value."""
    return topic.replace("/", "_").upper()


def our_topic(value: str) -> str:
    """``ORDERS_PAID`` -> ``orders/paid`` (the first word names the resource)."""
    resource, _, event = value.lower().partition("_")
    return f"{resource}/{event}" if event else resource


def customer_gid(ref: str) -> str:
    """A customer's GraphQL id from either form of it (``123`` or ``gid://…/Customer/123``)."""
    if ref.startswith("gid://shopify/Customer/"):
        return ref
    if not ref.isascii() or not ref.isdigit():
        raise ShopRefused(f"{ref[:40]!r} is not a Shopify customer id", "INVALID")
    return f"gid://shopify/Customer/{ref}"


def iso(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


class ShopifyAdmin:
    """One shop's Admin API. ``base_url`` defaults to ``https://<shop_domain>``; tests (and
    ``WALLETCARDS_SHOPIFY_API_URL``, once settings read it) point it at a loopback fake."""

    def __init__(
        self,
        shop_domain: str,
        token: Secret | str,
        *,
        version: str = DEFAULT_VERSION,
        base_url: str | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
        page_size: int = 10,
        timeout: float = 10.0,
        verify: ssl.SSLContext | bool = True,
        allow_http: bool = False,
    ) -> None:
        if not _VERSION.match(version):
            raise ValueError(f"not a Shopify API version: {version!r}")
        base = base_url or f"https://{shop_domain}"
        if not (base.startswith("https://") or (allow_http and base.startswith("http://"))):
            raise ValueError("the Shopify Admin API is reached over https (http: allow_http)")
        self.version = version
        self.new_shapes = version == "unstable" or version >= NEW_SHAPES_FROM
        self.page_size = page_size
        self._clock = clock or SystemClock()
        self.graphql = ShopifyGraphQL(
            base,
            version,
            token if isinstance(token, Secret) else Secret(token),
            sleep=sleep,
            max_attempts=max_attempts,
            timeout=timeout,
            verify=verify,
        )

    def __repr__(self) -> str:
        return f"ShopifyAdmin({self.graphql.endpoint!r})"

    def close(self) -> None:
        self.graphql.close()

    def code_input(
        self,
        code: str,
        amount: str,
        customer_ref: str | None,
        starts: datetime,
        ends: datetime,
        minimum: str | None = None,
    ) -> dict[str, Any]:
        """The DiscountCodeBasicInput for one single-use fixed amount off the order, usable
        from a ``minimum`` subtotal when given (``minimumRequirement.subtotal``, the same
        spelling in 2025-01 and later)."""
        customers: dict[str, Any] | None = (
            {"customers": {"add": [customer_gid(customer_ref)]}} if customer_ref else None
        )
        buyers: dict[str, Any]
        if self.new_shapes:
            buyers = {"context": customers or {"all": "ALL"}}
        else:
            buyers = {"customerSelection": customers or {"all": True}}
        return {
            "title": code,
            "code": code,
            "startsAt": iso(starts),
            "endsAt": iso(ends),
            "usageLimit": 1,
            "appliesOncePerCustomer": True,
            "customerGets": {
                "value": {"discountAmount": {"amount": amount, "appliesOnEachItem": False}},
                "items": {"all": True},
            },
            **buyers,
            **(
                {"minimumRequirement": {"subtotal": {"greaterThanOrEqualToSubtotal": minimum}}}
                if minimum is not None
                else {}
            ),
        }

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
        now = self._clock.now()
        text = check_code_request(code, amount, currency, now, expires_at)
        least = check_minimum(minimum, currency)
        variables = {"input": self.code_input(code, text, customer_ref, now, expires_at, least)}
        payload = self.graphql.call(CREATE_CODE, variables).get("discountCodeBasicCreate")
        user_errors(payload, "discountCodeBasicCreate")
        assert isinstance(payload, dict)
        node = payload.get("codeDiscountNode") or {}
        if not node.get("id"):
            raise ShopUnavailable("Shopify: discountCodeBasicCreate answered without an id")
        return ShopCode(str(node["id"]), code)

    def delete_code(self, id: str) -> None:
        data = self.graphql.call(DELETE_CODE, {"id": id})
        user_errors(data.get("discountCodeDelete"), "discountCodeDelete")

    def _subscription(self, node: dict[str, Any]) -> Subscription:
        if self.new_shapes:
            url = node.get("uri") or ""
        else:
            url = (node.get("endpoint") or {}).get("callbackUrl") or ""
        return Subscription(str(node["id"]), our_topic(str(node["topic"])), str(url))

    def list_webhooks(self) -> list[Subscription]:
        query = LIST_WEBHOOKS % (NEW_SUBSCRIPTION if self.new_shapes else OLD_SUBSCRIPTION)
        found: list[Subscription] = []
        after: str | None = None
        while True:
            page = self.graphql.call(query, {"after": after})["webhookSubscriptions"]
            found.extend(self._subscription(node) for node in page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                return found
            after = page["pageInfo"]["endCursor"]

    def create_webhook(self, topic: str, url: str, secret: str | None = None) -> Subscription:
        """Shopify signs deliveries with the app's client secret: ``secret`` is not sent."""
        fields = NEW_SUBSCRIPTION if self.new_shapes else OLD_SUBSCRIPTION
        target = {"uri": url} if self.new_shapes else {"callbackUrl": url}
        variables = {"topic": shopify_topic(topic), "input": {**target, "format": "JSON"}}
        data = self.graphql.call(CREATE_WEBHOOK % fields, variables)
        payload = data.get("webhookSubscriptionCreate")
        user_errors(payload, "webhookSubscriptionCreate")
        assert isinstance(payload, dict)
        return self._subscription(payload["webhookSubscription"])

    def orders_updated_since(self, since: datetime, cursor: str | None = None) -> OrdersPage:
        """Orders updated after ``since`` (to the second, so an order at that very second
        comes again: the intake dedupes), oldest change first, ``page_size`` a page."""
        variables = {
            "first": self.page_size,
            "after": cursor,
            "query": f"updated_at:>'{iso(since)}'",
        }
        page = self.graphql.call(orders.ORDERS, variables)["orders"]
        found = [orders.rest_order(self._complete(node)) for node in page["nodes"]]
        info = page["pageInfo"]
        return OrdersPage(found, info["endCursor"] if info["hasNextPage"] else None)

    def _complete(self, node: dict[str, Any]) -> dict[str, Any]:
        """The order with all its line items and refunds (follow-up queries when cut)."""
        node["lineItems"]["nodes"] = self._rest_of(
            orders.ORDER_LINES, node["id"], node["lineItems"], "lineItems"
        )
        if len(node.get("refunds", [])) >= orders.REFUND_LIMIT:
            found = self.graphql.call(orders.ORDER_REFUNDS, {"id": node["id"]})["node"]
            node["refunds"] = found["refunds"]
        for refund in node.get("refunds", []):
            refund["refundLineItems"]["nodes"] = self._rest_of(
                orders.REFUND_LINES, refund["id"], refund["refundLineItems"], "refundLineItems"
            )
        return node

    def _rest_of(
        self, query: str, gid: str, first: dict[str, Any], field: str
    ) -> list[dict[str, Any]]:
        nodes: list[dict[str, Any]] = list(first["nodes"])
        info = first["pageInfo"]
        while info["hasNextPage"]:
            more = self.graphql.call(query, {"id": gid, "after": info["endCursor"]})
            connection = more["node"][field]
            nodes.extend(connection["nodes"])
            info = connection["pageInfo"]
        return nodes

    def tag_customer(self, customer_ref: str, add: Sequence[str], remove: Sequence[str]) -> None:
        gid = customer_gid(customer_ref)
        for field, tags in (("tagsRemove", remove), ("tagsAdd", add)):
            if tags:
                query = TAGS % {"op": field[4:], "field": field}
                data = self.graphql.call(query, {"id": gid, "tags": list(tags)})
                user_errors(data.get(field), field)
