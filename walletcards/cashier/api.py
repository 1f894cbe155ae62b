"""POST /api/v1/cashier/scan | earn | redeem — the till's API (pinned in ARCHITECTURE.md).

Authentication: ``Authorization: Bearer <staff API token>``. Writes carry an
``Idempotency-Key``: a retry with the same key and body gets the first answer and changes
nothing; the same key with another body is a conflict. A card's QR code is checked against its
HMAC tag before any database look-up; cashiers may also type the member number (Luhn-checked)
or look a customer up by phone or email.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from walletcards.cardface import card_face
from walletcards.cashier import session as till_session
from walletcards.cashier.models import Staff, TillRequest
from walletcards.cashier.staff import staff_for_token
from walletcards.clients import Clients
from walletcards.codes import member_number_of, totp_matches
from walletcards.db import Database
from walletcards.errors import ApiError
from walletcards.jsonbody import json_object
from walletcards.loyalty import awards, ledger
from walletcards.loyalty.cards import luhn_valid
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.loyalty.programs import program_rules
from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.money import MoneyError, to_minor
from walletcards.settings import Settings

bp = Blueprint("cashier_api", __name__, url_prefix="/api/v1/cashier")
MAX_CODE = 200


def _context() -> tuple[Database, Settings, Clients]:
    ext = current_app.extensions
    return ext["walletcards.db"], ext["walletcards.settings"], ext["walletcards.clients"]


def _body() -> dict[str, Any]:
    raw = request.get_data()  # over MAX_CONTENT_LENGTH: 413, before any parsing
    data = json_object(raw)
    if data is None:
        raise ApiError(400, "malformed_json", "the body must be a JSON object")
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


def _find_card(session: Session, program: Program, code: Any, secret_key: str) -> Card:
    if not isinstance(code, str) or not code.strip() or len(code) > MAX_CODE:
        raise ApiError(422, "invalid_code", "code: the scanned or typed card code is required")
    code = code.strip()
    card = None
    number_part, _, tag = code.partition("-")
    if number_part.isdigit() and re.fullmatch(r"T\d{8}", tag):  # Google's rotating TOTP code
        card = _by(session, program, Card.member_number == number_part)
        if card is None or not totp_matches(card.qr_secret, tag[1:], _context()[2].clock.now()):
            raise ApiError(422, "forged_code", "this rotating code is not genuine or has expired")
    elif "-" in code and number_part.isdigit():  # a QR code: check its tag first
        number = member_number_of(secret_key, program.slug, code)
        if number is None:
            raise ApiError(422, "forged_code", "this card code is not genuine (altered or forged)")
        card = _by(session, program, Card.member_number == number)
    elif code.isdigit() and luhn_valid(code) and len(code) == 10:
        card = _by(session, program, Card.member_number == code)
    elif "@" in code:
        card = _by_customer(session, program, Customer.email == code.lower())
    elif re.fullmatch(r"\+?[\d\s()-]{6,20}", code):
        card = _by_customer(session, program, Customer.phone == code)
    if card is None:
        raise ApiError(404, "unknown_card", "no card matches this code, number, phone or email")
    return card


def _by(session: Session, program: Program, condition: Any) -> Card | None:
    return session.execute(
        select(Card).where(Card.program_id == program.id, condition)
    ).scalar_one_or_none()


def _by_customer(session: Session, program: Program, condition: Any) -> Card | None:
    return session.execute(
        select(Card)
        .join(Customer, Customer.id == Card.customer_id)
        .where(Card.program_id == program.id, condition)
        .order_by(Card.id)
        .limit(1)
    ).scalar_one_or_none()


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
        "expiring": face.expiring,
        "next_tier": face.next_tier,
        "reward_progress": face.reward_progress,
        **extra,
    }


@bp.post("/scan")
def scan() -> tuple[Response, int]:
    database, settings, clients = _context()
    body = _body()
    with database.transaction() as session:
        _, program = _staff(session)
        card = _find_card(session, program, body.get("code"), settings.secret_key.reveal())
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
    """Runs a write once per (staff, Idempotency-Key); a retry gets the stored answer."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 255:
        raise ApiError(
            400,
            "idempotency_key_required",
            "writes need an Idempotency-Key header (made before the first attempt)",
        )
    body = _body()
    digest = hashlib.sha256(json.dumps([action, body], sort_keys=True).encode()).hexdigest()
    database, _, clients = _context()
    for _ in range(2):
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
                answer = run(session, staff, program, body, key)
                session.add(
                    TillRequest(
                        staff_id=staff.id,
                        idempotency_key=key,
                        request_hash=digest,
                        status=200,
                        response=answer,
                        created_at=clients.clock.now(),
                    )
                )
            return jsonify(answer), 200
        except IntegrityError:
            continue  # a concurrent retry with the same key committed first: answer with it
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
    card = _find_card(session, program, body.get("code"), settings.secret_key.reveal())
    amount = body.get("amount")
    try:
        minor = to_minor(Decimal(str(amount)), program.currency) if isinstance(amount, str) else -1
    except (InvalidOperation, MoneyError):
        minor = -1
    if minor <= 0:
        raise ApiError(
            422,
            "invalid_amount",
            f'amount: a positive decimal string in {program.currency}, e.g. "12.50"',
        )
    reference = body.get("reference")
    if reference is not None and (not isinstance(reference, str) or len(reference) > 100):
        raise ApiError(
            422, "invalid_reference", "reference: a receipt number, at most 100 characters"
        )
    order_id = f"{staff.id}:{reference or key}"
    now = clients.clock.now()
    facts = OrderFacts(f"till:{program.slug}", order_id, program.currency, now, (OrderLine(minor),))
    award = awards.award_paid_order(session, program, card.id, facts, now)
    if not award.created:
        raise ApiError(409, "duplicate_receipt", f"receipt {reference!r} was already recorded")
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
    card = _find_card(session, program, body.get("code"), settings.secret_key.reveal())
    points = body.get("points")
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise ApiError(422, "invalid_points", "points: a whole number of points above 0")
    limit = program_rules(program).cashier_redeem_limit
    if staff.role == "cashier" and limit is not None and points > limit:
        raise ApiError(
            403,
            "over_cashier_limit",
            f"a cashier may redeem at most {limit} points at once; ask a manager",
        )
    locked = ledger.lock_card(session, card.id)
    ledger.redeem(
        session,
        locked,
        key=f"till:{staff.id}:{key}",
        points=points,
        cause=f"till:{staff.email}",
        now=clients.clock.now(),
        actor=staff.email,
        memo=body.get("reference") if isinstance(body.get("reference"), str) else None,
    )
    return _answer(
        session, program, locked, settings, clients, redeemed=points, recorded_by=staff.email
    )


@bp.post("/earn")
def earn() -> tuple[Response, int]:
    return _idempotent("earn")


@bp.post("/redeem")
def redeem() -> tuple[Response, int]:
    return _idempotent("redeem")
