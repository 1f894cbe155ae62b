"""Webhook signature checks, always on the raw body and in constant time.

- Shopify and WooCommerce: base64(HMAC-SHA256(secret, raw body)) in a header.
- Ours (Stripe-style, see docs/webhooks.md): ``t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``;
  several ``v1`` values may be present during a secret roll; 300 s tolerance either way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

TOLERANCE_SECONDS = 300
MAX_HEADER = 1024  # a timestamp and a few v1 values; a base64 SHA-256 is 44 characters


class SignatureError(Exception):
    """Missing, malformed, stale or wrong signature (answered 401, nothing written)."""


def base64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_base64_hmac(header: str | None, body: bytes, secrets: Sequence[str]) -> None:
    if not header:
        raise SignatureError("the signature header is missing")
    # compare_digest takes str only when ASCII (TypeError otherwise): compare bytes, bounded
    given = header.strip().encode("utf-8", "replace")[:MAX_HEADER]
    candidates = [base64_hmac(secret, body).encode() for secret in secrets]
    if not any(hmac.compare_digest(given, c) for c in candidates):
        raise SignatureError("the signature does not match the body")


def timestamped_signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def timestamped_header(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Walletcards-Signature`` value of ``body`` (our webhooks and outbound events)."""
    return f"t={timestamp},v1={timestamped_signature(secret, timestamp, body)}"


def verify_timestamped(header: str | None, body: bytes, secrets: Sequence[str], now: float) -> int:
    """Check a ``Walletcards-Signature`` header; returns its timestamp."""
    if not header:
        raise SignatureError("the Walletcards-Signature header is missing")
    if len(header) > MAX_HEADER:
        raise SignatureError(f"the signature header is longer than {MAX_HEADER} characters")
    timestamp: int | None = None
    signatures: list[bytes] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        # ASCII digits only ("²³".isdigit() is true, int() refuses it), at most 12 of them
        if name == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value.lower().encode("utf-8", "replace"))
    if timestamp is None or not signatures:
        raise SignatureError("the signature header must look like t=<unix>,v1=<hex>")
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError("the signature timestamp is outside the 300-second tolerance")
    expected = [timestamped_signature(secret, timestamp, body).encode() for secret in secrets]
    if not any(hmac.compare_digest(sig, exp) for sig in signatures for exp in expected):
        raise SignatureError("the signature does not match the body")
    return timestamp
