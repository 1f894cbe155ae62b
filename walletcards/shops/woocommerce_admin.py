"""The WooCommerce REST API v3 client behind :class:`~walletcards.shops.admin.ShopAdmin`.

Basic authentication with the consumer key and secret, over https only (plain http only when
``allow_http`` is set, for a loopback or development shop: the secret would travel in clear).
WooCommerce's fallback of key and secret in the query string is not used: URLs end up in logs.

- Codes are coupons (``POST /coupons``): ``fixed_cart`` (amount off the cart, a decimal
  *string*), one use in all and per user, ``date_expires_gmt``, ``individual_use`` as
  configured (True: not combined with other coupons). WooCommerce limits a coupon to e-mail
  addresses only (``email_restrictions``), not to a customer id.
- Deleting is for good (``DELETE /coupons/<id>?force=true``).
- Orders: ``GET /orders?modified_after=…&dates_are_gmt=true``, ``per_page`` up to 100, page
  numbers as the cursor, ``X-WP-TotalPages`` says when to stop; sorted by id (ascending), so an
  order created while we page lands on a later page instead of pushing one off ours.
- The tier lives in the customer's meta ``walletcards_tier`` (one value: WooCommerce has no
  customer tags): ``PUT /customers/<id>`` with ``meta_data``.
Source: woocommerce/woocommerce-rest-api-docs, source/includes/wp-api-v3/ (coupons, webhooks,
orders, customers, introduction, authentication).
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from walletcards.clock import Clock, SystemClock, as_utc
from walletcards.settings import Secret
from walletcards.shops.admin import (
    OrdersPage,
    ShopCode,
    ShopRefused,
    ShopUnavailable,
    Subscription,
    check_code_request,
    check_minimum,
)

TIER_META = "walletcards_tier"


def gmt(moment: datetime) -> str:
    """WooCommerce's GMT date-time: ISO 8601 without an offset."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S")


def _digits(value: str, what: str) -> str:
    if not value.isascii() or not value.isdigit():
        raise ShopRefused(f"{value[:40]!r} is not a WooCommerce {what} id", "INVALID")
    return value


class WooCommerceAdmin:
    """One WooCommerce site's REST API (``{site_url}/wp-json/wc/v3``)."""

    def __init__(
        self,
        site_url: str,
        consumer_key: Secret | str,
        consumer_secret: Secret | str,
        *,
        clock: Clock | None = None,
        individual_use: bool = True,
        page_size: int = 100,
        allow_http: bool = False,
        timeout: float = 10.0,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        if not (site_url.startswith("https://") or (allow_http and site_url.startswith("http://"))):
            raise ValueError("WooCommerce's REST API is reached over https (http: allow_http)")
        if not 1 <= page_size <= 100:
            raise ValueError("WooCommerce pages hold 1 to 100 items")
        self.api = f"{site_url.rstrip('/')}/wp-json/wc/v3"
        key, secret = (
            s.reveal() if isinstance(s, Secret) else s for s in (consumer_key, consumer_secret)
        )
        self._auth = Secret("Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode())
        self._clock = clock or SystemClock()
        self.individual_use = individual_use
        self.page_size = page_size
        self._http = httpx.Client(timeout=timeout, verify=verify)

    def __repr__(self) -> str:
        return f"WooCommerceAdmin({self.api!r})"

    def close(self) -> None:
        self._http.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": self._auth.reveal(), "Accept": "application/json"}
        try:
            response = self._http.request(
                method, f"{self.api}{path}", params=params, json=body, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ShopUnavailable(f"WooCommerce: {type(exc).__name__} calling {path}") from exc
        status = response.status_code
        if status == 429 or status >= 500:
            raise ShopUnavailable(f"WooCommerce: HTTP {status} from {method} {path}")
        if status >= 400:
            try:
                error = response.json()
            except ValueError:
                error = {}
            error = error if isinstance(error, dict) else {}
            message = str(error.get("message") or f"HTTP {status}")[:300]
            raise ShopRefused(f"WooCommerce: {message}", str(error.get("code") or f"HTTP_{status}"))
        return response

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise ShopUnavailable("WooCommerce: the answer is not JSON") from exc

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
        """A coupon; limited to ``email`` when given (WooCommerce has no per-customer-id
        limit, so ``customer_ref`` alone leaves the code open to whoever holds it), usable
        from a cart subtotal of ``minimum`` when given (``minimum_amount``)."""
        text = check_code_request(code, amount, currency, self._clock.now(), expires_at)
        least = check_minimum(minimum, currency)
        body = {
            "code": code,
            "discount_type": "fixed_cart",
            "amount": text,
            "individual_use": self.individual_use,
            "usage_limit": 1,
            "usage_limit_per_user": 1,
            "email_restrictions": [email] if email else [],
            "date_expires_gmt": gmt(expires_at),
            "description": "walletcards: points spent online",
            **({"minimum_amount": least} if least is not None else {}),
        }
        made = self._json(self._request("POST", "/coupons", body=body))
        if not isinstance(made, dict) or "id" not in made:
            raise ShopUnavailable("WooCommerce: the coupon answer has no id")
        return ShopCode(str(made["id"]), code)

    def delete_code(self, id: str) -> None:
        self._request("DELETE", f"/coupons/{_digits(id, 'coupon')}", params={"force": "true"})

    def _pages(self, path: str, params: dict[str, Any], page: int) -> tuple[list[Any], bool]:
        """One page of a collection and whether another follows (``X-WP-TotalPages``)."""
        response = self._request("GET", path, params={**params, "page": page})
        items = self._json(response)
        if not isinstance(items, list):
            raise ShopUnavailable(f"WooCommerce: {path} did not answer a list")
        try:
            total = int(response.headers.get("X-WP-TotalPages", "1"))
        except ValueError:
            total = 1
        return items, page < total

    def list_webhooks(self) -> list[Subscription]:
        found: list[Subscription] = []
        page, more = 1, True
        while more:
            items, more = self._pages("/webhooks", {"per_page": 100}, page)
            found.extend(
                Subscription(str(w["id"]), str(w["topic"]), str(w["delivery_url"])) for w in items
            )
            page += 1
        return found

    def create_webhook(self, topic: str, url: str, secret: str | None = None) -> Subscription:
        body: dict[str, Any] = {
            "name": f"walletcards {topic}",
            "topic": topic,
            "delivery_url": url,
            "status": "active",
        }
        if secret is not None:
            body["secret"] = secret
        made = self._json(self._request("POST", "/webhooks", body=body))
        return Subscription(str(made["id"]), str(made["topic"]), str(made["delivery_url"]))

    def orders_updated_since(self, since: datetime, cursor: str | None = None) -> OrdersPage:
        page = int(_digits(cursor, "page")) if cursor else 1
        params = {
            "modified_after": gmt(since),
            "dates_are_gmt": "true",
            "per_page": self.page_size,
            "orderby": "id",
            "order": "asc",
        }
        items, more = self._pages("/orders", params, page)
        return OrdersPage(items, str(page + 1) if more else None)

    def tag_customer(self, customer_ref: str, add: Sequence[str], remove: Sequence[str]) -> None:
        """Set the tier meta to ``add`` (one tier at most); with nothing to add, clear it when
        it holds a tier in ``remove`` (read first, so a newer tier is never cleared)."""
        path = f"/customers/{_digits(customer_ref, 'customer')}"
        if len(add) > 1:
            raise ValueError("a WooCommerce customer holds one tier")
        if add:
            value = add[0]
        elif remove:
            customer = self._json(self._request("GET", path))
            meta = customer.get("meta_data", []) if isinstance(customer, dict) else []
            current = next((m.get("value") for m in meta if m.get("key") == TIER_META), None)
            if current not in remove:
                return
            value = ""
        else:
            return
        self._request("PUT", path, body={"meta_data": [{"key": TIER_META, "value": value}]})
