"""The integration API for online redemptions under /api/v1/programs/<slug>/redemptions: a shop
(or any storefront) reserves a customer's points for a code, reads it, captures it with the
order or releases it. For integration accounts and managers; writes need an Idempotency-Key.

The reservation commits first; what follows it outside the transaction (the code in the shop
for channels "shopify" and "woocommerce") is :func:`walletcards.shops.codes.after_reserve`:
when the shop refuses the code, the reservation is released and the answer is 502
``shop_refused`` (stored under the Idempotency-Key instead of the 201). A release deletes the
code from the shop after its commit.

A capture may carry ``order_total``, the order's subtotal before the code: with
``[redemption] max_share`` a code paying more than that share of it is refused (409
``share_exceeded``, the reservation stays open). A code that no shop holds (channel "api", or
"card" without a shop) has no shop enforcing the share, so there ``order_total`` is required.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards import web
from walletcards.admin.inputs import BIGINT, check_request
from walletcards.cashier.models import TillRequest
from walletcards.errors import ApiError
from walletcards.loyalty import reservations
from walletcards.loyalty.cards import card_by_member_number
from walletcards.loyalty.ledger import settled_balance
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.loyalty.programs import program_rules
from walletcards.loyalty.redemption_models import Redemption
from walletcards.money import MoneyError, money_json, to_minor
from walletcards.shops.codes import ShopCodeRefused, after_reserve, delete_shop_code, platform_for
from walletcards.staff.models import INTEGRATION, Staff

bp = Blueprint("redemptions_api", __name__, url_prefix="/api/v1/programs/<slug>/redemptions")
bp.before_request(check_request)

CHANNELS = ("shopify", "woocommerce", "api")
# the longest value each identity's column holds (cards.member_number, customers.email/external_id)
IDENTITIES = {"member_number": 20, "email": 320, "external_id": 500}
MAX_TEXT = 200  # reference, order id
TOTAL = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,3})?")  # far below 2**63 minor units


def _allowed(staff: Staff, program: Program, slug: str) -> None:
    web.require_program(program, slug)
    if staff.role != INTEGRATION and not staff.is_manager:
        raise ApiError(403, "forbidden", "this needs an integration or manager account")


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise ApiError(422, f"invalid_{name}", f"{name}: 1 to {MAX_TEXT} characters")
    return value.strip()


def _card(session: Session, program: Program, body: dict[str, Any]) -> Card:
    """The card of the customer named by exactly one of member_number, email, external_id."""
    named = body.get("customer")
    if not isinstance(named, dict) or len(named) != 1 or next(iter(named)) not in IDENTITIES:
        raise ApiError(
            422, "invalid_customer", 'customer: {"member_number" | "email" | "external_id": …}'
        )
    field, value = next(iter(named.items()))
    if not isinstance(value, str) or not value.strip() or len(value) > IDENTITIES[field]:
        raise ApiError(422, "invalid_customer", f"customer.{field}: 1 to {IDENTITIES[field]}")
    value = value.strip()
    card = None
    if field == "member_number":
        card = card_by_member_number(session, program, value)
    else:
        column = Customer.email if field == "email" else Customer.external_id
        card = session.execute(
            select(Card)
            .join(Customer, Customer.id == Card.customer_id)
            .where(
                Card.program_id == program.id,
                column == (value.lower() if field == "email" else value),
            )
            .order_by(Card.id)
            .limit(1)
        ).scalar_one_or_none()
    if card is None:
        raise ApiError(404, "unknown_customer", f"no customer with this {field}")
    return card


def _points(value: Any) -> int:
    if type(value) is not int or not 0 < value < BIGINT:
        raise ApiError(422, "invalid_points", "points: a whole number above 0")
    return value


def _order_minor(body: dict[str, Any], program: Program, redemption: Redemption) -> int | None:
    """``order_total`` in minor units; required where ``max_share`` applies and no shop
    enforces it on the code."""
    value = body.get("order_total")
    if value is None:
        shop = platform_for(program, redemption.channel)
        rules = program_rules(program).redemption
        if rules.max_share is not None and shop is None and redemption.status == "reserved":
            raise ApiError(
                422,
                "order_total_required",
                f"order_total: the order's subtotal before the code is needed to check"
                f" [redemption] max_share ({rules.max_share} %)",
            )
        return None
    minor = -1
    if isinstance(value, str) and TOTAL.fullmatch(value):
        try:
            minor = to_minor(value, program.currency)
        except MoneyError:
            minor = -1
    if minor < 0:
        raise ApiError(
            422,
            "invalid_order_total",
            f'order_total: a decimal string in {program.currency}, e.g. "40.00"',
        )
    return minor


def _answer(session: Session, program: Program, redemption: Redemption) -> dict[str, Any]:
    card = session.get(Card, redemption.card_id)
    assert card is not None
    return {
        "redemption": {
            "id": redemption.id,
            "status": redemption.status,
            "points": redemption.points,
            "value": money_json(redemption.value_minor, program.currency),
            "code": redemption.code,
            "expires_at": redemption.expires_at.isoformat(),
            "channel": redemption.channel,
            "reference": redemption.reference,
            "order_id": redemption.order_ref,
            "released_cause": redemption.released_cause,
        },
        "balance": settled_balance(session, card, web.clock().now())._asdict(),
    }


def _found(session: Session, program: Program, redemption_id: int) -> Redemption:
    found = session.get(Redemption, redemption_id) if redemption_id < BIGINT else None
    if found is None or found.program_id != program.id:
        raise ApiError(404, "unknown_redemption", f"no redemption {redemption_id}")
    return found


@bp.post("")
def create(slug: str) -> tuple[Response, int]:
    made: list[tuple[Program, int, str, int, str]] = []

    def run(
        session: Session, staff: Staff, program: Program, body: dict[str, Any], key: str
    ) -> dict[str, Any]:
        _allowed(staff, program, slug)
        points = _points(body.get("points"))
        channel = body.get("channel")
        if channel not in CHANNELS:
            raise ApiError(422, "invalid_channel", f"channel: one of {', '.join(CHANNELS)}")
        reference = _text(body, "reference")
        card = _card(session, program, body)
        redemption = reservations.reserve(
            session,
            program,
            card,
            points,
            channel=channel,
            reference=reference,
            actor=staff.actor,
            key=f"api:{staff.id}:{key}",
            now=web.clock().now(),
        )
        made.append((program, redemption.id, redemption.channel, staff.id, key))
        return _answer(session, program, redemption)

    answer = web.idempotent_write("redemptions.create", run, status=201, integration=True)
    for program, redemption_id, channel, staff_id, key in made:  # committed: now the shop
        try:
            after_reserve(web.clients(), program, redemption_id, channel, web.database())
        except ShopCodeRefused as refused:  # released: a retry with the key answers the same
            with web.database().transaction() as session:
                stored = session.execute(
                    select(TillRequest).where(
                        TillRequest.staff_id == staff_id, TillRequest.idempotency_key == key
                    )
                ).scalar_one()
                stored.status = refused.status
                stored.response = {"error": {"code": refused.code, "message": refused.message}}
            raise
    return answer


@bp.get("/<int:redemption_id>")
def show(slug: str, redemption_id: int) -> tuple[Response, int]:
    with web.database().transaction() as session:
        staff, program = web.staff_member(session, integration=True)
        _allowed(staff, program, slug)
        return jsonify(_answer(session, program, _found(session, program, redemption_id))), 200


@bp.post("/<int:redemption_id>/capture")
def capture(slug: str, redemption_id: int) -> tuple[Response, int]:
    def run(
        session: Session, staff: Staff, program: Program, body: dict[str, Any], key: str
    ) -> dict[str, Any]:
        _allowed(staff, program, slug)
        order_id = _text(body, "order_id")
        found = _found(session, program, redemption_id)
        redemption = reservations.capture(
            session,
            found,
            order_ref=order_id,
            actor=staff.actor,
            now=web.clock().now(),
            order_minor=_order_minor(body, program, found),
        )
        return _answer(session, program, redemption)

    return web.idempotent_write(f"redemptions.capture:{redemption_id}", run, integration=True)


@bp.post("/<int:redemption_id>/release")
def release(slug: str, redemption_id: int) -> tuple[Response, int]:
    def run(
        session: Session, staff: Staff, program: Program, body: dict[str, Any], key: str
    ) -> dict[str, Any]:
        _allowed(staff, program, slug)
        redemption = reservations.release(
            session,
            _found(session, program, redemption_id),
            cause="api",
            actor=staff.actor,
            now=web.clock().now(),
        )
        released.append(program)
        return _answer(session, program, redemption)

    released: list[Program] = []
    answer = web.idempotent_write(f"redemptions.release:{redemption_id}", run, integration=True)
    for program in released:  # committed: the code goes from the shop (the job retries it)
        delete_shop_code(web.clients(), program, redemption_id, database=web.database())
    return answer
