"""The card's QR message: the member number plus an HMAC tag keyed per programme, so a forged
or altered code is refused before any database look-up (the till checks it)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

TAG_BYTES = 8


def _program_key(secret_key: str, program_slug: str) -> bytes:
    return hmac.new(secret_key.encode(), f"card-code:{program_slug}".encode(), "sha256").digest()


def _tag(secret_key: str, program_slug: str, member_number: str) -> str:
    digest = hmac.new(
        _program_key(secret_key, program_slug), member_number.encode(), hashlib.sha256
    ).digest()[:TAG_BYTES]
    return base64.b32encode(digest).decode().rstrip("=")


def card_code(secret_key: str, program_slug: str, member_number: str) -> str:
    """e.g. ``1234567897-ABCDEFGHIJKLM``: what the pass's ``barcodes[0].message`` holds."""
    return f"{member_number}-{_tag(secret_key, program_slug, member_number)}"


def member_number_of(secret_key: str, program_slug: str, code: str) -> str | None:
    """The member number inside a genuine code, None for a forged or altered one."""
    number, _, tag = code.strip().partition("-")
    if not number.isdigit() or not tag:
        return None
    expected = _tag(secret_key, program_slug, number)
    return number if hmac.compare_digest(tag.upper(), expected) else None


def totp(key: bytes, counter: int, digits: int = 8) -> str:
    """RFC 6238 / 4226 with SHA-1, as Google's rotating barcodes use (TOTP_SHA1)."""
    digest = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp_key(qr_secret: str) -> bytes:
    """The card's TOTP key (the same derivation as walletcards.google.objects.totp_secret)."""
    return hashlib.sha256(f"totp:{qr_secret}".encode()).digest()[:20]


def totp_matches(qr_secret: str, code: str, now: datetime, period: int = 30) -> bool:
    """The code of this 30-second step or the one before or after (clock drift)."""
    step = int(now.timestamp()) // period
    key = totp_key(qr_secret)
    return any(hmac.compare_digest(totp(key, step + d), code) for d in (-1, 0, 1))
