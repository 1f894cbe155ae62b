"""POST /api/v1/cashier/scan | earn | redeem — the till's API (pinned in docs/architecture.md).

Authentication: ``Authorization: Bearer <staff API token>``, or the till page's session plus its
CSRF token. Writes carry an ``Idempotency-Key``: a retry with the same key and body gets the
first answer and changes nothing (also while the first attempt is still running); the same key
with another body is a conflict. Cards are found by ``lookup.find_card``; redeeming needs the
card itself (its QR code, or a rotating code once) unless a manager types the number. A receipt
number earns once per programme, whoever enters it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from walletcards.cardface import card_face
from walletcards.cashier import inputs
from walletcards.cashier.lookup import CardMatch, find_card, spend_rotating_code
from walletcards.cashier.models import TillRequest
from walletcards.clients import Clients
from walletcards.db import Database
from walletcards.errors import ApiError
from walletcards.jsonbody import json_object
from walletcards.loyalty import awards, ledger
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import program_rules
from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.money import money_json, points_value_minor
from walletcards.settings import Settings
from walletcards.staff import sessions as till_session
from walletcards.staff.accounts import staff_for_token
from walletcards.staff.models import Staff

bp = Blueprint("cashier_api", __name__, url_prefix="/api/v1/cashier")
ATTEMPTS = 3  # a write that lost a race on a unique key runs again and finds the winner's answer


def _context() -> tuple[Database, Settings, Clients]:
    ext = current_app.extensions
    return ext["walletcards.db"], ext["walletcards.settings"], ext["walletcards.clients"]


def _body() -> dict[str, Any]:
    raw = request.get_data()  # over MAX_CONTENT_LENGTH: 413, before any parsing
    data = json_object(raw)
    if data is None:
        raise ApiError(400, "malformed_json", "the body must be a JSON object")
    inputs.check_strings(data)
    return data


def _staff(session: Session) -> tuple[Staff, Program]:
    """Bearer token (a POS), or the page's session cookie plus its CSRF token on every call."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    staff = staff_for_token(session, token.strip()) if scheme == "Bearer" and token else None
    if staff is None and not token:
        signed_in = till_session.signed_in(session, _context()[2].clock.now())
        if signed_in is not None:
            if not till_session.csrf_ok(request.headers.get("X-CSRF-Token")):
                raise ApiError(403, "csrf", "missing or wrong X-CSRF-Token; reload the page")
            return signed_in
    if staff is None:
        raise ApiError(401, "unauthorized", "sign in, or send Authorization: Bearer <token>")
    program = session.get(Program, staff.program_id)
    assert program is not None
    return staff, program


def _answer(
    session: Session,
    program: Program,
    card: Card,
    settings: Settings,
    clients: Clients,
    **extra: Any,
) -> dict[str, Any]:
    face = card_face(session, program, card, clients.clock.now(), settings.secret_key.reveal())
    return {
        "customer": {"name": face.customer_name, "member_number": face.member_number},
        "tier": face.tier,
        "balance": {"available": face.available, "pending": face.pending},  # settled at now
        # what the available points are worth at [redemption] point_value; null without one
        "value": _money(face.value_minor, program.currency),
        "expiring": face.expiring,
        "next_tier": face.next_tier,
        "reward_progress": face.reward_progress,
        **extra,
    }


def _money(minor: int | None, currency: str) -> dict[str, str] | None:
    return None if minor is None else money_json(minor, currency)


def _card(session: Session, program: Program, body: dict[str, Any]) -> CardMatch:
    _, settings, clients = _context()
    code = inputs.code(body.get("code"))
    return find_card(session, program, code, settings.secret_key.reveal(), clients.clock.now())


@bp.post("/scan")
def scan() -> tuple[Response, int]:
    database, settings, clients = _context()
    body = _body()
    with database.transaction() as session:
        _, program = _staff(session)
        card = _card(session, program, body).card
        return jsonify(_answer(session, program, card, settings, clients)), 200


def _idempotent(action: str) -> tuple[Response, int]:
    """Runs ``earn``/``redeem`` once per (staff, Idempotency-Key)."""
    run = _earn if action == "earn" else _redeem

    def call(
        session: Session, staff: Staff, program: Program, body: dict[str, Any], key: str
    ) -> dict[str, Any]:
        _, settings, clients = _context()
        return run(session, staff, program, body, key, settings, clients)

    return _idempotent_run(action, call)


def _idempotent_run(
    action: str, run: Callable[[Session, Staff, Program, dict[str, Any], str], dict[str, Any]]
) -> tuple[Response, int]:
    """Runs a write once per (staff, Idempotency-Key); a retry gets the stored answer.

    The key's record is inserted before the write runs: a concurrent twin blocks on its unique
    index until the first commits, then fails, runs again and answers with the stored answer
    (if the first rolled back, the twin's insert goes through and it does the work instead).
    """
    key = inputs.idempotency_key(request.headers.get("Idempotency-Key"))
    body = _body()
    digest = hashlib.sha256(json.dumps([action, body], sort_keys=True).encode()).hexdigest()
    database, _, clients = _context()
    for _ in range(ATTEMPTS):
        try:
            with database.transaction() as session:
                staff, program = _staff(session)
                earlier = session.execute(
                    select(TillRequest).where(
                        TillRequest.staff_id == staff.id, TillRequest.idempotency_key == key
                    )
                ).scalar_one_or_none()
                if earlier is not None:
                    if earlier.request_hash != digest:
                        raise ApiError(
                            409,
                            "idempotency_conflict",
                            "this Idempotency-Key was used for another request",
                        )
                    return jsonify(earlier.response), earlier.status
                claim = TillRequest(
                    staff_id=staff.id,
                    idempotency_key=key,
                    request_hash=digest,
                    status=0,  # set below; never committed as 0 (one transaction)
                    response={},
                    created_at=clients.clock.now(),
                )
                session.add(claim)
                session.flush()  # a concurrent twin with this key waits here
                answer = run(session, staff, program, body, key)
                claim.status, claim.response = 200, answer
            return jsonify(answer), 200
        except IntegrityError:
            continue  # a concurrent twin (or same receipt) committed first: look again
    raise ApiError(409, "idempotency_conflict", "this request is being processed; retry")


def _earn(
    session: Session,
    staff: Staff,
    program: Program,
    body: dict[str, Any],
    key: str,
    settings: Settings,
    clients: Clients,
) -> dict[str, Any]:
    minor = inputs.amount_minor(body.get("amount"), program.currency)
    reference = inputs.reference(body.get("reference"))
    card = _card(session, program, body).card
    # A receipt earns once per programme whoever enters it (the orders' unique key holds it);
    # without one, the purchase is this staff member's Idempotency-Key.
    order_id = f"ref:{reference}" if reference else f"{staff.id}:{key}"
    now = clients.clock.now()
    facts = OrderFacts(f"till:{program.slug}", order_id, program.currency, now, (OrderLine(minor),))
    award = awards.award_paid_order(session, program, card.id, facts, now, actor=staff.actor)
    if not award.created:
        raise ApiError(
            409,
            "duplicate_receipt",
            f"receipt {reference} was already recorded; it earns once"
            if reference
            else "this purchase was already recorded",
        )
    earned = sum(entry.points for entry in award.entries)
    return _answer(
        session, program, card, settings, clients, earned=earned, recorded_by=staff.email
    )


def _redeem(
    session: Session,
    staff: Staff,
    program: Program,
    body: dict[str, Any],
    key: str,
    settings: Settings,
    clients: Clients,
) -> dict[str, Any]:
    points = inputs.points(body.get("points"))
    reference = inputs.reference(body.get("reference"))
    rules = program_rules(program)
    manager = staff.role in ("manager", "admin")
    if (
        not manager
        and rules.cashier_redeem_limit is not None
        and points > rules.cashier_redeem_limit
    ):
        raise ApiError(
            403,
            "over_cashier_limit",
            f"a cashier may redeem at most {rules.cashier_redeem_limit} points at once; "
            "ask a manager",
        )
    match = _card(session, program, body)
    if match.by == "lookup" and not manager and not rules.redeem_by_lookup:
        raise ApiError(
            403,
            "card_required",
            "redeeming needs the customer's card: scan its QR code (a typed member number, "
            "phone or email is for a manager)",
        )
    now = clients.clock.now()
    locked = ledger.lock_card(session, match.card.id)
    if match.by == "rotating":
        spend_rotating_code(session, match, staff, now)
    ledger.redeem(
        session,
        locked,
        key=f"till:{staff.id}:{key}",
        points=points,
        cause=f"till:{staff.actor}",
        now=now,
        actor=staff.actor,
        memo=reference,
    )
    worth = (
        None
        if rules.point_value is None
        else points_value_minor(points, rules.point_value, program.currency)
    )
    return _answer(
        session,
        program,
        locked,
        settings,
        clients,
        redeemed=points,
        redeemed_value=_money(worth, program.currency),
        recorded_by=staff.email,
    )


@bp.post("/earn")
def earn() -> tuple[Response, int]:
    return _idempotent("earn")


@bp.post("/redeem")
def redeem() -> tuple[Response, int]:
    return _idempotent("redeem")
