"""The card page's marketing-consent toggle: what it shows and the signed token its form
carries. The card token in the URL is the customer's only credential, so, as for the
redemption forms (``redeem_form``), the form carries a token signed with the app's secret key
and bound to that card token (another site cannot forge it), expiring after ``FORM_AGE``."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from walletcards.loyalty.models import Customer

FORM_AGE = 12 * 3600
SALT = "walletcards.card-consent"
MAX_FORM_TOKEN = 300


@dataclass(frozen=True)
class ConsentSection:
    granted: bool  # the customer's marketing consent now
    form_token: str


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def consent_section(secret: str, card_token: str, customer: Customer | None) -> ConsentSection:
    granted = bool(customer is not None and customer.marketing_consent)
    return ConsentSection(granted, _signer(secret).dumps(card_token))


def form_ok(secret: str, card_token: str, value: str | None) -> bool:
    """Whether ``value`` is an unexpired consent-form token issued for this card."""
    if not value or len(value) > MAX_FORM_TOKEN:
        return False
    try:
        signed = _signer(secret).loads(value, max_age=FORM_AGE)
    except BadSignature:  # includes SignatureExpired
        return False
    return isinstance(signed, str) and signed == card_token
