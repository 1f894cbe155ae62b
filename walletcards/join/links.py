"""The sign-up's public URLs and the confirmation link's token (no Flask: the outbox worker
builds the confirmation email with them).

The confirmation token is signed, not stored (itsdangerous, the app's secret key, a salt of
its own so no other signed token of the service passes for it): it names the programme, the
customer and a keyed digest of the email it was sent to, and it expires after
``CONFIRM_AGE``. So it only ever confirms that one sign-up, and an address that changed or
was erased no longer matches. It is made when the email is sent (its age counts from then).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from walletcards.loyalty.referral_codes import CODE_RE as REF_RE

CONFIRM_SALT = "walletcards.join-confirm"
CONFIRM_AGE = 7 * 24 * 3600
CONFIRM_DAYS = CONFIRM_AGE // 86400
MAX_TOKEN = 300
STAFF_RE = re.compile(r"[a-z0-9-]{1,63}")


class LinkExpired(Exception):
    """A well-signed confirmation token past its age (the page offers to sign up again)."""


def staff_code(raw: str | None) -> str | None:
    """A ``?staff=`` attribution code if it is one (``[a-z0-9-]{1,63}``), else None (ignored)."""
    return raw if raw is not None and STAFF_RE.fullmatch(raw) else None


def ref_code(raw: str | None) -> str | None:
    """A ``?ref=`` referral code if it has a code's shape, else None (ignored)."""
    return raw if raw is not None and REF_RE.fullmatch(raw) else None


def join_url(public_url: str, slug: str, staff: str | None = None) -> str:
    url = f"{public_url}/join/{slug}"
    return f"{url}?staff={quote(staff)}" if staff else url


def confirm_url(public_url: str, slug: str, token: str) -> str:
    return f"{public_url}/join/{slug}/confirm/{token}"


def _email_tag(secret: str, email: str) -> str:
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()[:16]


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=CONFIRM_SALT)


def confirm_token(secret: str, program_id: int, customer_id: int, email: str) -> str:
    return str(_signer(secret).dumps([program_id, customer_id, _email_tag(secret, email)]))


def confirmed_by(secret: str, program_id: int, token: str) -> tuple[int, str] | None:
    """(customer id, email tag) of a valid token for this programme; None for anything else.
    Raises :class:`LinkExpired` for a genuine token past its age."""
    if len(token) > MAX_TOKEN:
        return None
    try:
        signed = _signer(secret).loads(token, max_age=CONFIRM_AGE)
    except SignatureExpired as exc:
        raise LinkExpired from exc
    except BadSignature:
        return None
    if (
        not isinstance(signed, list)
        or len(signed) != 3
        or signed[0] != program_id
        or not isinstance(signed[1], int)
        or not isinstance(signed[2], str)
    ):
        return None
    return signed[1], signed[2]


def email_matches(secret: str, email: str | None, tag: str) -> bool:
    return email is not None and hmac.compare_digest(_email_tag(secret, email), tag)
