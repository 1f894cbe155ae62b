"""``GET /unsubscribe/<token>``: a page with one button; ``POST /unsubscribe/<token>``: marketing
consent withdrawn (the button, or a mail client's RFC 8058 one-click post with the body
``List-Unsubscribe=One-Click``). Campaign messages stop; service notices about the card
(its email, balance and expiry on the card) do not. See :mod:`walletcards.rights.unsubscribe`."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from sqlalchemy.orm import Session

from walletcards import web
from walletcards.errors import ApiError
from walletcards.loyalty.members import set_marketing_consent
from walletcards.loyalty.models import Customer, Program
from walletcards.loyalty.programs import program_config
from walletcards.page_texts import template_texts
from walletcards.rights.unsubscribe import customer_of
from walletcards.texts import language_of

bp = Blueprint("unsubscribe", __name__)


def _page(program: Program, customer: Customer, token: str, done: bool) -> Response:
    config = program_config(program)
    lang = language_of(customer.locale, config.languages, config.locale)
    html = render_template(
        "unsubscribe.html",
        program_name=config.name_in(lang),
        token=token,
        subscribed=customer.marketing_consent,
        done=done,
        **template_texts(lang),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _customer(session: Session, token: str) -> tuple[Customer, Program]:
    """The token's customer (404 alike for a bad token, nobody, or an erased customer)."""
    customer_id = customer_of(web.settings().secret_key.reveal(), token)
    customer = session.get(Customer, customer_id) if customer_id is not None else None
    if customer is None or customer.erased_at is not None:
        raise ApiError(404, "not_found", "this link is not valid")
    program = session.get(Program, customer.program_id)
    assert program is not None
    return customer, program


@bp.get("/unsubscribe/<token>")
def confirm(token: str) -> Response:
    with web.database().transaction() as session:
        customer, program = _customer(session, token)
        return _page(program, customer, token, done=False)


@bp.post("/unsubscribe/<token>")
def withdraw(token: str) -> Response:
    """Withdraws once (a consent record); posting again changes and records nothing."""
    with web.database().transaction() as session:
        customer, program = _customer(session, token)
        set_marketing_consent(session, customer, False, web.clock().now(), "email_link")
        return _page(program, customer, token, done=True)
