"""The till's writes: a purchase earns as an order, a redemption spends points.

Domain functions: they take the session, never commit, and refuse with a
:class:`~walletcards.loyalty.ledger.LedgerError` (its status and code are the API's answer;
nothing has been written). The card comes from :func:`walletcards.cashier.lookup.find_card`.

A till purchase is an order of source ``till:<slug>`` of the amount paid (after any tier
discount the till gave, recorded beside it: cashier/quote.py), so it earns by the programme's rules,
counts towards tiers and every-Nth rewards, and can be refunded like a shop's. A receipt
number earns once per programme, whoever enters it (the orders' unique key holds it); without
one, the purchase is the staff member's Idempotency-Key. Redeeming needs the card itself (its
QR code, or a rotating code once) unless a manager types the number, and a cashier redeems at
most ``[redemption] cashier_limit`` points at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from walletcards.cashier.lookup import CardMatch, spend_rotating_code
from walletcards.cashier.quote import GivenDiscount, check_given, record_given
from walletcards.loyalty import awards, ledger
from walletcards.loyalty.ledger import LedgerError
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import program_rules
from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.money import points_value_minor
from walletcards.staff.models import Staff


class DuplicateReceipt(LedgerError):
    code = "duplicate_receipt"
    status = 409


class OverCashierLimit(LedgerError):
    code = "over_cashier_limit"
    status = 403


class CardRequired(LedgerError):
    code = "card_required"
    status = 403


@dataclass(frozen=True)
class Redeemed:
    card: Card  # locked
    worth_minor: int | None  # the points' money value at [redemption] point_value


def earn(
    session: Session,
    program: Program,
    staff: Staff,
    card: Card,
    *,
    minor: int,
    reference: str | None,
    key: str,
    now: datetime,
    discount: tuple[int, str | None] | None = None,
) -> tuple[int, GivenDiscount | None]:
    """Records a purchase of ``minor`` units paid on ``card``: the points it earned and the tier
    discount the till gave (``discount``: minor units off, and the percent it was quoted),
    checked against the card's tier before anything is written (cashier/quote.py)."""
    order_id = f"ref:{reference}" if reference else f"{staff.id}:{key}"
    facts = OrderFacts(f"till:{program.slug}", order_id, program.currency, now, (OrderLine(minor),))
    given = None
    if discount is not None:  # checked at the tier before this purchase (it may raise it)
        if reference and awards.find_order(session, program.id, facts.source, order_id):
            raise DuplicateReceipt(f"receipt {reference} was already recorded; it earns once")
        given = check_given(session, program, card, minor, discount, now)
    award = awards.award_paid_order(session, program, card.id, facts, now, actor=staff.actor)
    if not award.created:
        raise DuplicateReceipt(
            f"receipt {reference} was already recorded; it earns once"
            if reference
            else "this purchase was already recorded"
        )
    if given is not None:
        record_given(session, award.order, given, staff, now)
    return sum(entry.points for entry in award.entries), given


def check_redeem_limit(program: Program, staff: Staff, points: int) -> None:
    """A cashier's redemption above the programme's limit is for a manager (403). Checked
    before the card is looked up, so the till says so whatever code it sent."""
    limit = program_rules(program).cashier_redeem_limit
    if not staff.is_manager and limit is not None and points > limit:
        raise OverCashierLimit(
            f"a cashier may redeem at most {limit} points at once; ask a manager"
        )


def redeem(
    session: Session,
    program: Program,
    staff: Staff,
    match: CardMatch,
    *,
    points: int,
    reference: str | None,
    key: str,
    now: datetime,
) -> Redeemed:
    """Spends ``points`` from the card ``match`` found (a rotating code once)."""
    check_redeem_limit(program, staff, points)
    rules = program_rules(program)
    if match.by == "lookup" and not staff.is_manager and not rules.redeem_by_lookup:
        raise CardRequired(
            "redeeming needs the customer's card: scan its QR code (a typed member number, "
            "phone or email is for a manager)"
        )
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
    return Redeemed(locked, worth)
