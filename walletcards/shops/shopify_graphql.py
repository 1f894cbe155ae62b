"""One Shopify Admin GraphQL call over httpx: authentication, cost-based throttling, errors.

``POST {base}/admin/api/{version}/graphql.json`` with ``X-Shopify-Access-Token`` (the token
lives in a :class:`~walletcards.settings.Secret`; it is never logged, never in an error).
Shopify throttles by query cost (a leaky bucket per app and store): a throttled call answers
**HTTP 200** with ``errors[].extensions.code == "THROTTLED"`` and ``extensions.cost {
requestedQueryCost, throttleStatus {currentlyAvailable, restoreRate}}``
(shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits). We wait until the bucket holds
the requested cost again — ``(requested - available) / restoreRate`` seconds, through the
injected ``sleep`` — and retry, ``max_attempts`` calls in all; then ShopUnavailable.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from typing import Any

import httpx

from walletcards.settings import Secret
from walletcards.shops.admin import ShopRefused, ShopUnavailable

MAX_WAIT = 30.0  # seconds: no bucket refills slower than this for one query (1000 pts at 50/s)
RETRY_STATUSES = (429, 502, 503, 504)  # besides throttling: worth one more try after a pause


def throttle_wait(body: dict[str, Any]) -> float:
    """Seconds until the bucket again holds what the throttled query asked for."""
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        requested = float(cost["requestedQueryCost"])
        available = float(status["currentlyAvailable"])
        rate = float(status["restoreRate"])
    except (KeyError, TypeError, ValueError):
        return 1.0  # no cost information: Shopify's smallest plan restores 50 points a second
    if rate <= 0:
        return MAX_WAIT
    return min(max(requested - available, 1.0) / rate, MAX_WAIT)


def _codes(errors: list[Any]) -> list[str]:
    return [
        str((e.get("extensions") or {}).get("code", "")) if isinstance(e, dict) else ""
        for e in errors
    ]


def _message(errors: Any) -> str:
    if isinstance(errors, str):
        return errors[:300]
    if isinstance(errors, list):
        texts = [str(e.get("message", "")) if isinstance(e, dict) else str(e) for e in errors]
        return "; ".join(t for t in texts if t)[:300] or "GraphQL error"
    return str(errors)[:300]


class ShopifyGraphQL:
    """Posts GraphQL documents to one shop; returns ``data`` or raises a ShopError."""

    def __init__(
        self,
        base_url: str,
        version: str,
        token: Secret,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
        timeout: float = 10.0,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.endpoint = f"{base_url.rstrip('/')}/admin/api/{version}/graphql.json"
        self._token = token
        self._sleep = sleep
        self.max_attempts = max_attempts
        self.waits: list[float] = []  # what was slept, for logs and tests
        self._http = httpx.Client(timeout=timeout, verify=verify)

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"ShopifyGraphQL({self.endpoint!r})"

    def call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """``data`` of a successful call; ShopRefused or ShopUnavailable otherwise."""
        for attempt in range(1, self.max_attempts + 1):
            body, wait = self._once(query, variables)
            if body is not None:
                return body
            if attempt < self.max_attempts:
                self.waits.append(wait)
                self._sleep(wait)
        raise ShopUnavailable(f"Shopify: still throttled after {self.max_attempts} attempts")

    def _once(self, query: str, variables: dict[str, Any]) -> tuple[dict[str, Any] | None, float]:
        """(data, 0) on success, (None, seconds to wait) when worth retrying; raises else."""
        headers = {
            "X-Shopify-Access-Token": self._token.reveal(),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        try:
            response = self._http.post(
                self.endpoint, json={"query": query, "variables": variables}, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ShopUnavailable(f"Shopify: {type(exc).__name__} calling the Admin API") from exc
        status = response.status_code
        if status in RETRY_STATUSES:
            retry_after = response.headers.get("Retry-After", "")
            return None, min(float(retry_after), MAX_WAIT) if retry_after.isdigit() else 1.0
        if status >= 500:
            raise ShopUnavailable(f"Shopify: HTTP {status}")
        try:
            body = response.json()
        except ValueError as exc:
            if status >= 400:
                raise ShopRefused(f"Shopify: HTTP {status}", f"HTTP_{status}") from exc
            raise ShopUnavailable(f"Shopify: HTTP {status} without a JSON body") from exc
        errors = body.get("errors") if isinstance(body, dict) else None
        if status >= 400:
            raise ShopRefused(f"Shopify: {_message(errors)}", f"HTTP_{status}")
        if not isinstance(body, dict):
            raise ShopUnavailable("Shopify: the answer is not a JSON object")
        if errors:
            codes = _codes(errors) if isinstance(errors, list) else []
            if "THROTTLED" in codes:
                return None, throttle_wait(body)
            if "INTERNAL_SERVER_ERROR" in codes:
                raise ShopUnavailable(f"Shopify: {_message(errors)}")
            raise ShopRefused(
                f"Shopify: {_message(errors)}", next((c for c in codes if c), "GRAPHQL")
            )
        data = body.get("data")
        if not isinstance(data, dict):
            raise ShopUnavailable("Shopify: the answer has no data")
        return data, 0.0


def user_errors(payload: Any, operation: str) -> None:
    """Raise ShopRefused with the first user error of a mutation's payload, if any."""
    if not isinstance(payload, dict):
        raise ShopUnavailable(f"Shopify: {operation} answered without its payload")
    errors = payload.get("userErrors") or []
    if errors:
        first = errors[0]
        field = ".".join(first.get("field") or [])
        message = "; ".join(str(e.get("message", "")) for e in errors)
        raise ShopRefused(
            f"Shopify {operation}: {message}" + (f" ({field})" if field else ""),
            str(first.get("code") or "USER_ERROR"),
        )
