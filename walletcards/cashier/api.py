"""POST /api/v1/cashier/scan | quote | earn | redeem | enrol — the till's API (pinned in
docs/architecture.md; enrol is walk-in joining, :mod:`walletcards.cashier.enrolment`).

Authentication: ``Authorization: Bearer <staff API token>``, or the till page's session plus its
CSRF token (:func:`walletcards.web.staff_member`). Writes carry an ``Idempotency-Key``: a retry
with the same key and body gets the first answer and changes nothing (also while the first
attempt is still running); the same key with another body is a conflict
(:func:`walletcards.web.idempotent_write`). Cards are found by ``lookup.find_card``; what earning
and redeeming do is :mod:`walletcards.cashier.till`; the tier discount's quote is
:mod:`walletcards.cashier.quote` (``earn`` may carry the ``discount`` it gave: the amount is then
what the customer paid). The views parse, authenticate, open the
transaction and answer.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy.orm import Session

from walletcards import web
from walletcards.cashier import enrolment, inputs, quote, till
from walletcards.cashier.lookup import CardMatch, find_card
from walletcards.errors import ApiError
from walletcards.links import card_links
from walletcards.loyalty import members
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_config
from walletcards.money import from_minor
from walletcards.staff.models import Staff

bp = Blueprint("cashier_api", __name__, url_prefix="/api/v1/cashier")
JOINED_STAFF = 63  # customers.joined_staff


def _card(session: Session, program: Program, body: dict[str, Any]) -> CardMatch:
    code = inputs.code(body.get("code"))
    secret_key = web.settings().secret_key.reveal()
    return find_card(session, program, code, secret_key, web.clock().now())


@bp.post("/scan")
def scan() -> tuple[Response, int]:
    body = web.json_body()
    with web.database().transaction() as session:
        _, program = web.staff_member(session)
        card = _card(session, program, body).card
        return jsonify(web.card_answer(session, program, card)), 200


def _earn(
    session: Session, staff: Staff, program: Program, body: dict[str, Any], key: str
) -> dict[str, Any]:
    minor = inputs.amount_minor(body.get("amount"), program.currency)
    reference = inputs.reference(body.get("reference"))
    discount = inputs.discount(body.get("discount"), program.currency)
    card = _card(session, program, body).card
    earned, given = till.earn(
        session,
        program,
        staff,
        card,
        minor=minor,
        reference=reference,
        key=key,
        now=web.clock().now(),
        discount=discount,
    )
    return web.card_answer(
        session,
        program,
        card,
        earned=earned,
        discount=None
        if given is None
        else {
            "percent": quote.percent_text(given.percent),
            "amount": _decimal(given.discount_minor, program.currency),
        },
        recorded_by=staff.email,
    )


@bp.post("/quote")
def price_quote() -> tuple[Response, int]:
    """What the customer pays at their tier's discount, and the points paying it earns. A read:
    no Idempotency-Key, nothing written."""
    body = web.json_body()
    with web.database().transaction() as session:
        _, program = web.staff_member(session)
        amount = inputs.amount_minor(body.get("amount"), program.currency)
        lines = inputs.lines(body.get("lines"), program.currency, amount)
        card = _card(session, program, body).card
        found = quote.quote(session, program, card, amount, lines, web.clock().now())
        price, currency = found.price, program.currency
        answer = web.card_answer(
            session,
            program,
            card,
            amount=_decimal(price.amount_minor, currency),
            discountable=_decimal(price.discountable_minor, currency),
            discount=None
            if price.percent is None
            else {
                "percent": quote.percent_text(price.percent),
                "amount": _decimal(price.discount_minor, currency),
            },
            to_pay=_decimal(price.to_pay_minor, currency),
            currency=currency,
            points=found.points,
        )
        return jsonify(answer), 200


def _decimal(minor: int, currency: str) -> str:
    """Minor units as the API's decimal string with the currency's own decimals ("1.24")."""
    return format(from_minor(minor, currency), "f")


def _redeem(
    session: Session, staff: Staff, program: Program, body: dict[str, Any], key: str
) -> dict[str, Any]:
    points = inputs.points(body.get("points"))
    reference = inputs.reference(body.get("reference"))
    till.check_redeem_limit(program, staff, points)
    match = _card(session, program, body)
    done = till.redeem(
        session,
        program,
        staff,
        match,
        points=points,
        reference=reference,
        key=key,
        now=web.clock().now(),
    )
    return web.card_answer(
        session,
        program,
        done.card,
        redeemed=points,
        redeemed_value=web.money_answer(done.worth_minor, program.currency),
        recorded_by=staff.email,
    )


@bp.post("/earn")
def earn() -> tuple[Response, int]:
    return web.idempotent_write("earn", _earn)


@bp.post("/redeem")
def redeem() -> tuple[Response, int]:
    return web.idempotent_write("redeem", _redeem)


def _enrol(
    session: Session, staff: Staff, program: Program, body: dict[str, Any], key: str
) -> dict[str, Any]:
    """A new member and card (201: the card, its links and the QR of its page for the
    customer's phone); 409 ``already_member`` with the card of the member this email or phone
    already belongs to (nothing about them changes, nothing is stored under the key)."""
    now = web.clock().now()
    applicant = enrolment.applicant(body, program, now)
    done = members.enrol(
        session,
        program,
        applicant,
        now,
        via="till",
        staff=staff.email if len(staff.email) <= JOINED_STAFF else f"staff:{staff.id}",
        actor=staff.actor,
        secret=web.settings().secret_key.reveal(),
    )
    card = done.card
    # the till goes on with the member number: it earns, and redeeming by it needs a manager
    shown = web.card_answer(session, program, card, code=card.member_number)
    if not done.created:
        raise ApiError(
            409,
            "already_member",
            "already a member: this email or phone belongs to the card shown",
            {"card": shown},
        )
    google = program_config(program).google is not None
    links = card_links(web.settings().public_url, card.public_token, google)
    return {
        **shown,
        "created": True,
        "card": links,
        "card_qr_svg": enrolment.qr_svg(str(links["url"])),
        "recorded_by": staff.email,
    }


@bp.post("/enrol")
def enrol() -> tuple[Response, int]:
    return web.idempotent_write("enrol", _enrol, status=201)
