"""The unsubscribe link every email carries (and its ``List-Unsubscribe`` header, RFC 8058):
``<public URL>/unsubscribe/<token>``, the token naming the customer, signed with the service's
secret key (itsdangerous). It does not expire: an old email must still let its reader stop
the offers. Opening it shows a button (a mail scanner fetching links withdraws nothing); the
button's post, or the mail client's one-click post, withdraws marketing consent once
(:func:`walletcards.loyalty.members.set_marketing_consent`, source ``email_link``)."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "walletcards.unsubscribe"
MAX_TOKEN = 200


def unsubscribe_token(secret: str, customer_id: int) -> str:
    return URLSafeSerializer(secret, salt=SALT).dumps([customer_id])


def unsubscribe_url(public_url: str, secret: str, customer_id: int) -> str:
    return f"{public_url}/unsubscribe/{unsubscribe_token(secret, customer_id)}"


def customer_of(secret: str, token: str) -> int | None:
    """The customer id a valid token names; None for anything else (costs no query)."""
    if not token or len(token) > MAX_TOKEN:
        return None
    try:
        signed = URLSafeSerializer(secret, salt=SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(signed, list) or len(signed) != 1:
        return None
    found = signed[0]
    ok = isinstance(found, int) and not isinstance(found, bool) and 0 < found < 2**63
    return found if ok else None
