"""The card page's posts: POST /c/<token>/redemptions reserves points for a code (channel
"card", actor "customer"), POST /c/<token>/redemptions/<id>/release gives them back (cause
"customer"). Both answer the card page again: the new code, or why nothing changed (4xx).

The card token is the only credential, so both are guarded by the signed form token of
``redeem_form`` (403 without a valid one) and rate-limited per card token and per client
address (Flask-Limiter, the sign-in forms' limiter and storage): 429 with Retry-After.
"""

from __future__ import annotations

import hashlib
import math
import re
import time

from flask import Blueprint, Flask, Response, current_app, request
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address

from walletcards import web
from walletcards.customer.redeem_form import code_of, form_nonce, refusal
from walletcards.customer.views import card_of, card_response
from walletcards.errors import ApiError, error_response
from walletcards.i18n import language
from walletcards.loyalty import reservations
from walletcards.loyalty.entries import LedgerError
from walletcards.loyalty.models import Customer
from walletcards.loyalty.programs import program_config, program_rules
from walletcards.shops.codes import ShopCodeRefused, after_reserve, delete_shop_code
from walletcards.texts import language_of

bp = Blueprint("customer_redeem", __name__)

CARD_LIMIT = "10/minute;60/hour"  # posts for one card, from any address
ADDRESS_LIMIT = "30/minute;300/hour"  # posts from one client address, for any card
ENDPOINTS = ("customer_redeem.reserve", "customer_redeem.release")
POINTS = re.compile(r"[0-9]{1,12}")
ACTOR = "customer"


def _card_key() -> str:
    token = (request.view_args or {}).get("token", "")
    return "card-" + hashlib.sha256(str(token).encode()).hexdigest()


def limit_card_posts(app: Flask) -> None:
    """Both posts get both limits, on the app's one limiter (``staff.signin.limit_logins``)."""
    limiter = app.extensions["walletcards.limiter"]
    by_address = limiter.shared_limit(
        ADDRESS_LIMIT, scope="card-address", key_func=get_remote_address
    )
    by_card = limiter.shared_limit(CARD_LIMIT, scope="card", key_func=_card_key)
    for name in ENDPOINTS:
        app.view_functions[name] = by_card(by_address(app.view_functions[name]))


def _lang(token: str) -> str:
    """The card's language (as its page speaks), for a refusal's message."""
    with web.database().transaction() as session:
        card, program = card_of(session, token)
        customer = session.get(Customer, card.customer_id)
        config = program_config(program)
    return language_of(customer.locale if customer else None, config.languages, config.locale)


def _nonce(token: str) -> str | None:
    return form_nonce(web.settings().secret_key.reveal(), token, request.form.get("form"))


def _expired(token: str) -> Response:
    t = language(_lang(token))
    return card_response(token, 403, message=t.gettext("This form has expired. Please try again."))


class _Refused(Exception):
    """Leaves the transaction (rolled back, nothing written) with the page's answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@bp.post("/c/<token>/redemptions")
def reserve(token: str) -> Response:
    nonce = _nonce(token)
    if nonce is None:
        return _expired(token)
    raw = request.form.get("points", "").strip()
    t = language(_lang(token))
    try:
        if not POINTS.fullmatch(raw):
            raise _Refused(400, t.gettext("Enter a whole number of points."))
        with web.database().transaction() as session:
            card, program = card_of(session, token)
            rules = program_rules(program)
            if rules.point_value is None:
                raise _Refused(404, t.gettext("This card has no online codes."))
            why = refusal(t.code, rules.redemption, int(raw), card.available)
            if why is not None:
                raise _Refused(422, why)
            made = reservations.reserve(
                session,
                program,
                card,
                int(raw),
                channel="card",
                reference=None,
                actor=ACTOR,
                key=f"card:{card.id}:{nonce}",
                now=web.clock().now(),
            )
            made_id, channel, code = made.id, made.channel, made.code
    except _Refused as refused:
        return card_response(token, refused.status, message=refused.message)
    except LedgerError as exc:  # a race with the till, or a replayed form with other points
        current_app.logger.info("card page reservation refused: %s", exc)
        message = t.gettext("Your points changed meanwhile. Please try again.")
        return card_response(token, 409, message=message)
    try:  # committed: now the shop (its code, when the programme has one)
        after_reserve(web.clients(), program, made_id, channel, web.database())
    except ShopCodeRefused:  # released again: the points are back on the card
        message = t.gettext("The shop could not make your code. Please try again later.")
        return card_response(token, 502, message=message)
    return card_response(token, 200, made=code)


@bp.post("/c/<token>/redemptions/<int:redemption_id>/release")
def release(token: str, redemption_id: int) -> Response:
    if _nonce(token) is None:
        return _expired(token)
    t = language(_lang(token))
    try:
        with web.database().transaction() as session:
            card, program = card_of(session, token)
            found = code_of(session, card, redemption_id)
            if found is None:
                raise _Refused(404, t.gettext("There is no such code."))
            if found.status == "captured":
                raise _Refused(409, t.gettext("This code was already used for an order."))
            reservations.release(
                session, found, cause="customer", actor=ACTOR, now=web.clock().now()
            )
            back = found.points
    except _Refused as refused:
        return card_response(token, refused.status, message=refused.message)
    # committed: the code goes from the shop (the scheduled job retries it if the shop is down)
    delete_shop_code(web.clients(), program, redemption_id, database=web.database())
    message = t.ngettext(
        "Code cancelled: %(num)s point is back on your card.",
        "Code cancelled: %(num)s points are back on your card.",
        back,
    )
    return card_response(token, 200, message=message)


@bp.errorhandler(RateLimitExceeded)
def too_many(_exc: RateLimitExceeded) -> Response:
    token = str((request.view_args or {}).get("token", ""))
    try:
        t = language(_lang(token))
        answer = card_response(
            token, 429, message=t.gettext("Too many attempts. Wait a minute, then try again.")
        )
    except ApiError:  # no such card (a guesser over the limit): the plain error, still a 429
        answer, _ = error_response(429, "rate_limited", "too many attempts; wait a minute")
        answer.status_code = 429
    limit = current_app.extensions["walletcards.limiter"].current_limit
    wait = limit.reset_at - time.time() if limit is not None else 60
    answer.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return answer
