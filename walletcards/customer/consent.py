"""POST /c/<token>/consent: the card page's toggle for offers (``marketing=on|off``), recorded
with :func:`walletcards.loyalty.members.set_marketing_consent` (source ``card_page``, the
programme's ``[join] terms_version`` when it has one). Answers the card page again, saying
what changed. Guarded by the signed form token of ``consent_form`` (403 without a valid one)
and by the card page's post limits (per card token and per client address, shared with the
redemption forms: 429)."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, Response, request
from flask_limiter.util import get_remote_address

from walletcards import web
from walletcards.customer.consent_form import form_ok
from walletcards.customer.redeem import ADDRESS_LIMIT, CARD_LIMIT
from walletcards.customer.views import card_of, card_response
from walletcards.i18n import language
from walletcards.loyalty.members import set_marketing_consent
from walletcards.loyalty.models import Customer
from walletcards.loyalty.programs import program_config
from walletcards.texts import language_of

bp = Blueprint("customer_consent", __name__)
ENDPOINT = "customer_consent.toggle"
CHOICES = {"on": True, "off": False}


def card_key() -> str:
    token = (request.view_args or {}).get("token", "")
    return "card-" + hashlib.sha256(str(token).encode()).hexdigest()


def limit_consent_posts(app: Flask) -> None:
    """The redemption forms' limits (same scopes: one budget per card and per address)."""
    limiter = app.extensions["walletcards.limiter"]
    by_address = limiter.shared_limit(
        ADDRESS_LIMIT, scope="card-address", key_func=get_remote_address
    )
    by_card = limiter.shared_limit(CARD_LIMIT, scope="card", key_func=card_key)
    app.view_functions[ENDPOINT] = by_card(by_address(app.view_functions[ENDPOINT]))


@bp.post("/c/<token>/consent")
def toggle(token: str) -> Response:
    secret = web.settings().secret_key.reveal()
    choice = CHOICES.get(request.form.get("marketing", ""))
    with web.database().transaction() as session:
        card, program = card_of(session, token)
        customer = session.get(Customer, card.customer_id)
        assert customer is not None
        config = program_config(program)
        t = language(language_of(customer.locale, config.languages, config.locale))
        if not form_ok(secret, token, request.form.get("form")):
            status, message = 403, t.gettext("This form has expired. Please try again.")
        elif choice is None:
            status, message = 400, t.gettext("Choose whether you want offers.")
        else:
            version = config.join.terms_version if config.join else None
            now = web.clock().now()
            set_marketing_consent(session, customer, choice, now, "card_page", version)
            status = 200
            message = (
                t.gettext("You will receive offers.")
                if choice
                else t.gettext("You will not receive offers any more.")
            )
    return card_response(token, status, message=message)
