"""The fake Shopify's root fields: what each operation does to the fake's state and answers.

graphql-core's default resolver calls a callable it finds in a result dict with the field's
arguments, so connections and argument-taking fields are closures over the stored lists.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

if TYPE_CHECKING:
    from tests.fakes.shopify_admin import FakeShopify

Resolver = Any
Info = Any  # graphql.GraphQLResolveInfo (generic in graphql-core 3.3, not in 3.2)
SINCE = re.compile(r"^updated_at:>'([^']+)'$")
CUSTOMER = re.compile(r"^gid://shopify/Customer/\d+$")


def moment(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def error(field: list[str] | None, message: str, code: str | None) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


def cursor(index: int) -> str:
    return base64.b64encode(f"at:{index}".encode()).decode()


def position(after: str | None) -> int:
    if after is None:
        return 0
    text = base64.b64decode(after.encode()).decode()
    if not text.startswith("at:"):
        raise GraphQLError(f"Invalid cursor {after!r}")
    return int(text[3:]) + 1


def connection(items: list[Any], first: int | None, after: str | None) -> dict[str, Any]:
    """A Relay connection over ``items`` (Shopify requires ``first`` or ``last``; max 250)."""
    if first is None or not 0 < first <= 250:
        raise GraphQLError("you must provide first (1-250) to paginate this connection")
    start = position(after)
    chunk = items[start : start + first]
    end = start + len(chunk) - 1
    return {
        "nodes": chunk,
        "edges": [{"node": n, "cursor": cursor(start + i)} for i, n in enumerate(chunk)],
        "pageInfo": {
            "hasNextPage": start + first < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": cursor(start) if chunk else None,
            "endCursor": cursor(end) if chunk else None,
        },
    }


def wrap_refund(refund: dict[str, Any]) -> dict[str, Any]:
    lines = refund.get("refundLineItems", [])
    shipping = refund.get("refundShippingLines", [])
    return {
        **refund,
        "__typename": "Refund",
        "refundLineItems": lambda info, first=None, after=None, **_: connection(
            lines, first, after
        ),
        "refundShippingLines": lambda info, first=None, after=None, **_: connection(
            shipping, first, after
        ),
    }


def wrap_order(order: dict[str, Any]) -> dict[str, Any]:
    """A stored Order with its lists served as Shopify serves them (connections, ``first``)."""
    lines, shipping = order.get("lineItems", []), order.get("shippingLines", [])
    refunds = [wrap_refund(r) for r in order.get("refunds", [])]
    return {
        **order,
        "__typename": "Order",
        "lineItems": lambda info, first=None, after=None, **_: connection(lines, first, after),
        "shippingLines": lambda info, first=None, after=None, **_: connection(
            shipping, first, after
        ),
        "refunds": lambda info, first=None: refunds if first is None else refunds[:first],
    }


def check_code(fake: FakeShopify, given: dict[str, Any], new: bool) -> list[dict[str, Any]]:
    """userErrors for a DiscountCodeBasicInput, as Shopify reports them."""
    where = "basicCodeDiscount"
    buyers = "context" if new else "customerSelection"
    problems = [
        error([where, name], f"{name} can't be blank", "BLANK")
        for name in ("code", "title", "startsAt", "customerGets", buyers)
        if given.get(name) in (None, "")
    ]
    if problems:
        return problems
    if any(c["code"].casefold() == given["code"].casefold() for c in fake.codes.values()):
        problems.append(error([where, "code"], "Code must be unique.", "TAKEN"))
    if given.get("endsAt") and moment(given["endsAt"]) <= moment(given["startsAt"]):
        problems.append(error([where, "endsAt"], "Ends at needs to be after starts_at", "INVALID"))
    amount = given["customerGets"].get("value", {}).get("discountAmount", {}).get("amount")
    try:
        positive = Decimal(str(amount)) > 0
    except InvalidOperation:
        positive = False
    if not positive:
        problems.append(
            error([where, "customerGets", "value"], "Value must be greater than 0", "INVALID")
        )
    selection = given[buyers]
    if bool(selection.get("all")) == bool(selection.get("customers")):
        problems.append(error([where, buyers], "Choose all buyers or customers", "INVALID"))
    for gid in (selection.get("customers") or {}).get("add") or []:
        if not CUSTOMER.match(gid):
            problems.append(error([where, buyers], f"Invalid customer id {gid}", "INVALID"))
    return problems


def root(fake: FakeShopify, new: bool) -> dict[str, Resolver]:
    """The root value: one resolver per query and mutation field the fake serves."""

    def scripted(name: str) -> list[dict[str, Any]]:
        return [fake.refusals[name].pop(0)] if fake.refusals[name] else []

    def create_code(info: Info, basicCodeDiscount: dict[str, Any]) -> Any:
        problems = scripted("discountCodeBasicCreate") or check_code(fake, basicCodeDiscount, new)
        if problems:
            return {"codeDiscountNode": None, "userErrors": problems}
        gid = f"gid://shopify/DiscountCodeNode/{next(fake.ids)}"
        fake.codes[gid] = basicCodeDiscount
        return {"codeDiscountNode": {"id": gid}, "userErrors": []}

    def delete_code(info: Info, id: str) -> Any:
        problems = scripted("discountCodeDelete")
        if not problems and fake.codes.pop(id, None) is None:
            problems = [error(["id"], "Discount does not exist", None)]
        return {"deletedCodeDiscountId": None if problems else id, "userErrors": problems}

    def subscription(entry: dict[str, Any]) -> dict[str, Any]:
        url = entry["url"]
        endpoint = {"__typename": "WebhookHttpEndpoint", "callbackUrl": url}
        return {**entry, "uri": url, "callbackUrl": url, "endpoint": endpoint}

    def create_webhook(info: Info, topic: str, webhookSubscription: dict[str, Any]) -> Any:
        name = "uri" if new else "callbackUrl"
        url = str(webhookSubscription.get(name) or "")
        problems = scripted("webhookSubscriptionCreate")
        if not problems and not url.startswith("https://"):
            problems = [
                error(["webhookSubscription", name], "Address protocol not supported", None)
            ]
        if not problems and any(w["topic"] == topic and w["url"] == url for w in fake.webhooks):
            problems = [
                error(
                    ["webhookSubscription", name],
                    "Address for this topic has already been taken",
                    None,
                )
            ]
        if problems:
            return {"webhookSubscription": None, "userErrors": problems}
        entry = {"id": f"gid://shopify/WebhookSubscription/{next(fake.ids)}", "topic": topic}
        entry |= {"url": url, "format": webhookSubscription.get("format", "JSON")}
        fake.webhooks.append(entry)
        return {"webhookSubscription": subscription(entry), "userErrors": []}

    def webhooks(info: Info, first: int | None = None, after: str | None = None, **_: Any) -> Any:
        return connection([subscription(w) for w in fake.webhooks], first, after)

    def orders(
        info: Info,
        first: int | None = None,
        after: str | None = None,
        sortKey: str | None = None,
        query: str | None = None,
        **_: Any,
    ) -> Any:
        found = SINCE.match(query or "")
        if sortKey != "UPDATED_AT" or not found:
            raise GraphQLError(
                "the fake serves orders(sortKey: UPDATED_AT, query: updated_at:>'…')"
            )
        since = moment(found.group(1))
        newer = [o for o in fake.orders if moment(o["updatedAt"]) > since]
        newer.sort(key=lambda o: moment(o["updatedAt"]))
        return connection([wrap_order(o) for o in newer], first, after)

    def node(info: Info, id: str) -> Any:
        for order in fake.orders:
            if order["id"] == id:
                return wrap_order(order)
            for refund in order.get("refunds", []):
                if refund["id"] == id:
                    return wrap_refund(refund)
        return None

    def tags(name: str) -> Resolver:
        def change(info: Info, id: str, tags: list[str]) -> Any:
            problems = scripted(name)
            if not problems and not CUSTOMER.match(id):
                problems = [error(["id"], "The id is not a taggable object", None)]
            if problems:
                return {"node": None, "userErrors": problems}
            if name == "tagsAdd":
                fake.tags[id].update(tags)
            else:
                fake.tags[id].difference_update(tags)
            return {"node": {"__typename": "Customer", "id": id}, "userErrors": []}

        return change

    return {
        "discountCodeBasicCreate": create_code,
        "discountCodeDelete": delete_code,
        "webhookSubscriptionCreate": create_webhook,
        "webhookSubscriptions": webhooks,
        "orders": orders,
        "node": node,
        "tagsAdd": tags("tagsAdd"),
        "tagsRemove": tags("tagsRemove"),
    }
