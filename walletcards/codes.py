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


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # str.isdigit alone takes "١٢٣" and "²"


def member_number_of(secret_key: str, program_slug: str, code: str) -> str | None:
    """The member number inside a genuine code, None for a forged or altered one.

    The tag must be exactly as issued (upper-case base32): a code is a bearer secret, so no
    variant of it (lower case, other alphabets) is accepted."""
    number, _, tag = code.strip().partition("-")
    if not _ascii_digits(number) or not tag or not tag.isascii():
        return None
    expected = _tag(secret_key, program_slug, number)
    return number if hmac.compare_digest(tag.encode(), expected.encode()) else None


def totp(key: bytes, counter: int, digits: int = 8) -> str:
    """RFC 6238 / 4226 with SHA-1, as Google's rotating barcodes use (TOTP_SHA1)."""
    digest = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp_key(qr_secret: str) -> bytes:
    """The card's TOTP key (the same derivation as walletcards.google.objects.totp_secret)."""
    return hashlib.sha256(f"totp:{qr_secret}".encode()).digest()[:20]


def totp_step(qr_secret: str, code: str, now: datetime, period: int = 30) -> int | None:
    """The time step whose code ``code`` is: this 30-second step or the one before or after
    (clock drift, RFC 6238 section 5.2); None when it is none of them."""
    if len(code) != 8 or not _ascii_digits(code):
        return None
    step = int(now.timestamp()) // period
    key = totp_key(qr_secret)
    for candidate in (step - 1, step, step + 1):
        if hmac.compare_digest(totp(key, candidate).encode(), code.encode()):
            return candidate
    return None


def totp_matches(qr_secret: str, code: str, now: datetime, period: int = 30) -> bool:
    """The code of this 30-second step or the one before or after (clock drift)."""
    return totp_step(qr_secret, code, now, period) is not None
