"""A card's referral code: its id in base32, then an 8-character tag (40 bits of
HMAC-SHA256 of the id under the card's own ``qr_secret``), e.g. ``"b4k2xq7dmf"``.

Nothing is stored and no service-wide key is needed (the webhook applier can read a code): the
code is stable for the card's life, and nobody can make up another card's code without its
``qr_secret`` (a guess is right once in 2^40). The id part says roughly how many cards the
service has issued; the code is shared with friends anyway, and the card page's token, the
QR message and the member number are unrelated to it.
"""

from __future__ import annotations

import hashlib
import hmac
import re

TAG_LENGTH = 8
MAX_CODE = 13 + TAG_LENGTH  # 2^63 in base32 is 13 characters
CODE_RE = re.compile(r"[a-z2-7]{9,21}")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def _tag(qr_secret: str, card_id: int) -> str:
    digest = hmac.new(qr_secret.encode(), f"referral:{card_id}".encode(), hashlib.sha256).digest()
    value = int.from_bytes(digest[:5], "big")
    return "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(TAG_LENGTH)))


def referral_code(card_id: int, qr_secret: str) -> str:
    """The code of the card with this id and QR secret."""
    digits = ""
    value = card_id
    while True:
        digits = _ALPHABET[value & 31] + digits
        value >>= 5
        if not value:
            break
    return digits + _tag(qr_secret, card_id)


def card_id_of(code: str) -> int | None:
    """The card id a code names, or None when it cannot be a code (shape, range); the tag is
    checked against the card with :func:`code_matches`."""
    if not CODE_RE.fullmatch(code):
        return None
    value = 0
    for char in code[:-TAG_LENGTH]:
        value = (value << 5) | _ALPHABET.index(char)
    return value if 0 < value < 2**63 else None


def code_matches(code: str, card_id: int, qr_secret: str) -> bool:
    return hmac.compare_digest(code.encode(), referral_code(card_id, qr_secret).encode())
