"""The owner's API under /api/v1/programs/<slug>/ for managers and admins (cashiers: 403;
integration accounts read customers and cards only):
customer search, a card with its ledger, manual adjustments and entry reversals with a reason,
resend the card email, the dashboard's numbers, programme settings. Same authentication as the
till (Bearer token or the page session + CSRF)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from walletcards import web
from walletcards.admin.card_delivery import card_delivery
from walletcards.admin.inputs import check_request
from walletcards.admin.metrics import dashboard
from walletcards.admin.period import PeriodError, parse_period
from walletcards.admin.settings import (
    SettingsError,
    check_columns,
    check_operator_fields,
    masked,
    unmasked,
)
from walletcards.errors import ApiError
from walletcards.loyalty import adjustments, ledger
from walletcards.loyalty.cards import card_by_member_number
from walletcards.loyalty.config import ProgramConfigError, event_url_problems, parse_program
from walletcards.loyalty.corrections import reverse_entry
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Program
from walletcards.loyalty.programs import apply_program, program_rules
from walletcards.outbound.outbox import queue_card_email
from walletcards.page_texts import staff_texts
from walletcards.staff.models import INTEGRATION, Staff

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/programs/<slug>")
bp.before_request(check_request)
MAX_QUERY = 320  # the longest column searched (Customer.email)
MEMBER_NUMBER = 20  # Card.member_number


def _manager(session: Session, slug: str) -> tuple[Staff, Program]:
    staff, program = web.staff_member(session)
    web.require_own_manager(staff, program, slug)
    return staff, program


def _reader(session: Session, slug: str) -> tuple[Staff, Program]:
    """A manager, or an integration account (customers are what it may read)."""
    staff, program = web.staff_member(session, integration=True)
    if staff.role == INTEGRATION and program.slug == slug:
        return staff, program
    web.require_own_manager(staff, program, slug)
    return staff, program


def _card(session: Session, program: Program, member_number: str) -> Card:
    card = None
    if len(member_number) <= MEMBER_NUMBER:
        card = card_by_member_number(session, program, member_number)
    if card is None:
        raise ApiError(404, "unknown_card", f"no card {member_number[:MEMBER_NUMBER]!r}")
    return card


@bp.get("/customers")
def customers(slug: str) -> tuple[Response, int]:
    query = (request.args.get("q") or "").strip()
    if not query or len(query) > MAX_QUERY:
        raise ApiError(
            422, "invalid_query", f"q: an email, phone or member number (at most {MAX_QUERY})"
        )
    with web.database().transaction() as session:
        _, program = _reader(session, slug)
        rows = session.execute(
            select(Card, Customer.name, Customer.email, Customer.phone)
            .join(Customer, Customer.id == Card.customer_id)
            .where(
                Card.program_id == program.id,
                or_(
                    Customer.email == query.lower(),
                    Customer.phone == query,
                    Card.member_number == query,
                ),
            )
            .limit(20)
        ).all()
        found = [
            {
                "member_number": card.member_number,
                "name": name,
                "email": email,
                "phone": phone,
                "balance": ledger.settled_balance(session, card, web.clock().now())._asdict(),
                "tier": card.tier_code,
            }
            for card, name, email, phone in rows
        ]
    return jsonify({"customers": found}), 200


@bp.get("/cards/<member_number>")
def card(slug: str, member_number: str) -> tuple[Response, int]:
    with web.database().transaction() as session:
        _, program = _reader(session, slug)
        found = _card(session, program, member_number)
        entries = session.execute(
            select(LedgerEntry)
            .where(LedgerEntry.card_id == found.id)
            .order_by(LedgerEntry.id.desc())
            .limit(100)
        ).scalars()
        answer = web.card_answer(
            session,
            program,
            found,
            entries=[
                {
                    "id": e.id,
                    "kind": e.kind,
                    "points": e.points,
                    "cause": e.cause,
                    "actor": e.actor,
                    "memo": e.memo,
                    "created_at": e.created_at.isoformat(),
                }
                for e in entries
            ],
        )
        # the proof of delivery, worded in the owner's language (admin/card_delivery.py)
        lang = staff_texts(program)["lang"]
        answer["delivery"] = card_delivery(session, found.id, web.clock().now(), lang)
    return jsonify(answer), 200


@bp.post("/cards/<member_number>/adjustments")
def adjust(slug: str, member_number: str) -> tuple[Response, int]:
    """A manual correction with a reason: positive credits, negative debits (never below 0)."""

    def run(
        session: Session, staff: Staff, program: Program, body: dict[str, Any], key: str
    ) -> dict[str, Any]:
        web.require_own_manager(staff, program, slug)
        points, reason = body.get("points"), body.get("reason")
        if isinstance(points, bool) or not isinstance(points, int) or points == 0:
            raise ApiError(422, "invalid_points", "points: a whole number, not 0")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
            raise ApiError(422, "invalid_reason", "reason: why (required, at most 500 characters)")
        found = adjustments.adjust(
            session,
            program,
            _card(session, program, member_number).id,
            points=points,
            reason=reason,
            key=f"adjust:{staff.id}:{key}",
            actor=staff.actor,
            now=web.clock().now(),
        )
        return web.card_answer(session, program, found, adjusted=points, recorded_by=staff.email)

    return web.idempotent_write("adjust", run)


@bp.post("/cards/<member_number>/resend-email")
def resend(slug: str, member_number: str) -> tuple[Response, int]:
    web.json_body()
    with web.database().transaction() as session:
        _, program = _manager(session, slug)
        row = queue_card_email(
            session, program, _card(session, program, member_number), web.clock().now()
        )
        if row is None:
            raise ApiError(409, "email_off", "the card email is turned off for this programme")
        status = row.status
    return jsonify({"email": status}), 200


@bp.get("/metrics")
def metrics(slug: str) -> tuple[Response, int]:
    """The dashboard's numbers as JSON (``from``/``to``: local dates, default the last 30 days)."""
    now = web.clock().now()
    with web.database().transaction() as session:
        _, program = _manager(session, slug)
        try:
            period = parse_period(
                request.args.get("from"),
                request.args.get("to"),
                program_rules(program).timezone,
                now,
            )
        except PeriodError as exc:
            raise ApiError(422, "invalid_range", str(exc)) from exc
        numbers = dashboard(session, program, period, now)
    return jsonify(numbers.as_json()), 200


@bp.get("/settings")
def settings_get(slug: str) -> tuple[Response, int]:
    """The programme document (as the TOML file, in JSON), literal secrets hidden."""
    with web.database().transaction() as session:
        _, program = _manager(session, slug)
        answer = {"version": program.config_hash, "config": masked(program.config)}
    response = jsonify(answer)
    response.set_etag(answer["version"])
    return response, 200


@bp.put("/settings")
def settings_put(slug: str) -> tuple[Response, int]:
    """Replace the programme document; validated exactly like `walletcards program apply`.
    ``If-Match: "<version>"`` (optional) refuses the change if someone changed it since."""
    body = web.json_body()
    document = body.get("config")
    if not isinstance(document, dict):
        raise ApiError(422, "invalid_settings", "config: the programme document as an object")
    with web.database().transaction() as session:
        _, program = _manager(session, slug)
        expected = request.if_match
        if expected and not expected.contains(program.config_hash):
            raise ApiError(412, "stale_settings", "the settings changed since you read them")
        try:
            document = unmasked(document, program.config)
            check_operator_fields(document, program.config)
            check_columns(document)
            config = parse_program(document)
            destinations = event_url_problems(config.events, dev=web.settings().dev)
            if destinations:
                raise ProgramConfigError(destinations)
        except (SettingsError, ProgramConfigError) as exc:
            raise ApiError(422, "invalid_settings", str(exc)) from exc
        if config.slug != program.slug:
            raise ApiError(422, "invalid_settings", "slug: a programme keeps its slug")
        try:
            updated, outcome = apply_program(session, config, web.clock().now())
        except ValueError as exc:
            raise ApiError(422, "invalid_settings", str(exc)) from exc
        answer = {"outcome": outcome, "version": updated.config_hash}
    return jsonify(answer), 200


@bp.post("/cards/<member_number>/entries/<int:entry_id>/reversal")
def reverse(slug: str, member_number: str, entry_id: int) -> tuple[Response, int]:
    """Reverse one entry with a reason (see walletcards/loyalty/corrections.py); once."""

    def run(
        session: Session, staff: Staff, program: Program, body: dict[str, Any], key: str
    ) -> dict[str, Any]:
        web.require_own_manager(staff, program, slug)
        reason = body.get("reason")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
            raise ApiError(422, "invalid_reason", "reason: why (required, at most 500 characters)")
        found = ledger.lock_card(session, _card(session, program, member_number).id)
        entry = session.get(LedgerEntry, entry_id) if entry_id < 2**63 else None  # BIGINT
        if entry is None or entry.card_id != found.id:
            raise ApiError(404, "unknown_entry", f"card {member_number} has no entry {entry_id}")
        posted = reverse_entry(
            session,
            found,
            entry,
            reason=reason,
            actor=staff.actor,
            now=web.clock().now(),
            max_points=program_rules(program).max_points_per_entry,
        )
        return web.card_answer(
            session,
            program,
            found,
            reversed_entry=entry.id,
            entry={"id": posted.entry.id, "kind": posted.entry.kind, "points": posted.entry.points},
            recorded_by=staff.email,
        )

    return web.idempotent_write("reverse", run)
