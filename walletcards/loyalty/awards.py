"""Orders to ledger entries, end to end: a shop's paid order (:func:`apply_paid`), refund
(:func:`apply_refund`) and cancellation (:func:`apply_cancel`), each applied exactly once, and
the yearly birthday bonus. A paid order earns base points + welcome + every-Nth (+ what the
running campaigns pay: :mod:`walletcards.loyalty.campaigns`); what an order
unlocks by counting, and taking it back: :mod:`walletcards.loyalty.unlocks`; refunds and
cancellations, reversed pro rata: :mod:`walletcards.loyalty.refunds`.

Each function locks the card, checks every limit before writing anything, and raises a
:class:`~walletcards.loyalty.ledger.LedgerError` (nothing written) when the order cannot apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.loyalty import (
    campaigns,
    early,
    ledger,
    order_facts,
    redemption_orders,
    refunds,
    unlocks,
)
from walletcards.loyalty.cards import card_changed, issue_card
from walletcards.loyalty.config_rules import ProgramRules
from walletcards.loyalty.customers import CustomerDetails, find_or_create_customer
from walletcards.loyalty.ledger import LimitExceeded, Posted
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Order, Program
from walletcards.loyalty.order_batch import Known
from walletcards.loyalty.order_book import (
    OrderRejected,
    Outcome,
    UnknownOrder,
    find_order,
    order_key,
)
from walletcards.loyalty.periods import Span
from walletcards.loyalty.programs import program_rules
from walletcards.loyalty.refunds import RefundResult, apply_cancel, apply_refund, reverse_order
from walletcards.loyalty.rules import (
    OrderFacts,
    birthday_in,
    counts,
    earning_rate,
    eligible_minor,
    lot_dates,
    points_for,
)
from walletcards.loyalty.tiers import refresh_tier

__all__ = [
    "BIRTHDAY_GRACE_DAYS",
    "OrderAward",
    "OrderRejected",
    "Outcome",
    "RefundResult",
    "UnknownOrder",
    "apply_cancel",
    "apply_paid",
    "apply_refund",
    "award_birthday",
    "award_paid_order",
    "find_order",
    "order_key",
    "reverse_order",
]

BIRTHDAY_GRACE_DAYS = 7  # a daily job that missed a day still awards, once a year


@dataclass(frozen=True)
class OrderAward:
    order: Order
    created: bool  # False: the order had been applied before and nothing was written
    entries: tuple[LedgerEntry, ...]


def apply_paid(
    session: Session,
    program: Program,
    facts: OrderFacts,
    customer: CustomerDetails,
    now: datetime,
    seen_at: datetime | None = None,
    codes: Sequence[str] = (),
    known: Known | None = None,
) -> Outcome:
    """A shop's paid order, once: "duplicate" if it was applied before; "ignored" if it was
    cancelled or wholly refunded before it arrived (:mod:`~walletcards.loyalty.early`);
    "unattributed" without a customer to credit. Otherwise the customer (details as of
    ``seen_at``) gets a card and the order's points, less the reversals kept for it. The
    reservations whose ``codes`` it carries are captured (released if it was voided):
    :mod:`~walletcards.loyalty.redemption_orders`.

    Serialised with the order's reversals (:func:`early.lock_order`), so the order is looked up
    once, before anything is written; ``known``: an applier's batch locked it and looked it up
    already (:func:`~walletcards.loyalty.order_batch.look_up`)."""
    name = (facts.source, facts.external_id)
    covered = known is not None and known.covers(*name)
    if known is not None and covered:
        existing, kept = known.orders.get(name), known.kept.get(name, [])
        codes = [code for code in codes if code.strip().upper() in known.codes]
    else:
        early.lock_order(session, program.id, *name)
        existing = find_order(session, program.id, *name)
        kept = [] if existing else early.kept(session, program.id, *name)
    if existing is not None:
        return Outcome("duplicate", session.get(Card, existing.card_id))
    voided = early.voided(kept, facts.total_minor)
    redemption_orders.capture_codes(
        session, program, *name, codes, now, voided=voided, paid_minor=facts.total_minor
    )
    if voided:
        return Outcome("ignored", None, "the order was cancelled or refunded before it was paid")
    if not customer.identifiable:
        return Outcome("unattributed", None, "the order names no customer and no email: no points")
    person, created = find_or_create_customer(
        session, program, customer, now, seen_at, locked=covered
    )
    number = known.member_number() if known is not None and created else None
    card, new_card = _locked_card(session, program, person, created, now, number)
    rules = program_rules(program)
    _check_currency(program, facts)
    award = _award(session, program, rules, card, facts, now, None, new_card=new_card)
    refunds.apply_kept(session, program, card, award.order, kept, now)
    return Outcome("applied", card)


def _locked_card(
    session: Session,
    program: Program,
    person: Customer,
    created: bool,
    now: datetime,
    member_number: str | None = None,
) -> tuple[Card, bool]:
    """The customer's card, found and locked in one statement, or a new card (made in this
    transaction, no one else's: nothing to lock; ``member_number`` checked free); whether it
    is new."""
    if not created:
        card = session.execute(
            select(Card)
            .where(Card.customer_id == person.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if card is not None:
            return card, False
    return issue_card(session, program, person, now, new=True, member_number=member_number), True


def _imported(session: Session, card: Card) -> bool:
    """Whether the card's customer was brought across from an earlier programme (``walletcards
    import customers``): not a new customer, so their first order here earns no welcome."""
    customer = session.get(Customer, card.customer_id)
    return customer is not None and customer.joined_via == "import"


def _check_currency(program: Program, facts: OrderFacts) -> None:
    if facts.currency != program.currency:
        raise OrderRejected(
            f"order currency {facts.currency} differs from the programme's {program.currency}"
        )


def award_paid_order(
    session: Session,
    program: Program,
    card_id: int,
    facts: OrderFacts,
    now: datetime,
    actor: str | None = None,
) -> OrderAward:
    """Apply a paid order once: base points at the tier the order reaches and, if the order
    counts (:mod:`~walletcards.loyalty.unlocks`), the welcome bonus on the card's first
    counting order and the every-Nth reward its count completes; all held for the return
    window..
    ``actor`` names who recorded it (a till's staff member) on every entry it posts."""
    rules = program_rules(program)
    _check_currency(program, facts)
    card = ledger.lock_card(session, card_id)
    existing = find_order(session, program.id, facts.source, facts.external_id)
    if existing is not None:
        return OrderAward(existing, created=False, entries=())
    return _award(session, program, rules, card, facts, now, actor)


def _award(
    session: Session,
    program: Program,
    rules: ProgramRules,
    card: Card,
    facts: OrderFacts,
    now: datetime,
    actor: str | None,
    new_card: bool = False,
) -> OrderAward:
    """Write a new order (none exists under its key; ``card`` locked) and its credits.
    ``new_card``: the card was made in this transaction, so it has no lots, entries or other
    orders to read back (the statements the first order of a new customer saves)."""
    if not new_card:
        ledger.settle_time(session, card, now)
    paid_at = min(facts.paid_at, now)
    eligible = eligible_minor(rules.earning, facts)
    counted = counts(rules.earning, eligible)
    order = Order(
        program_id=program.id,
        card_id=card.id,
        source=facts.source,
        external_id=facts.external_id,
        currency=facts.currency,
        total_minor=facts.total_minor,
        eligible_minor=eligible,
        refunded_minor=0,
        refunded_eligible_minor=0,
        base_points=0,
        bonus_points=0,
        points_reversed=0,
        status="paid",
        counted=counted,
        is_repeat=card.paid_orders > 0,
        paid_at=paid_at,
        created_at=now,
    )
    session.add(order)
    session.flush()
    card.paid_orders += int(counted)
    if new_card:
        order_facts.first_order(card, order)
    else:
        order_facts.refresh(session, card)
    tier = refresh_tier(session, rules, card, now, "raise")
    base = points_for(eligible, earning_rate(rules, tier), facts.currency)
    key = order_key(facts.source, facts.external_id)
    credits: list[tuple[str, str, str, int, Span | None]] = []  # kind, key, cause, points, life
    if base > 0:
        credits.append(("earn", f"{key}:earn", key, base, rules.expiry))
    welcome = unlocks.welcome_key(card)
    if (
        counted
        and rules.welcome
        and rules.welcome.on == "first_order"
        and card.paid_orders == 1
        and (new_card or ledger.find_entry_any(session, program.id, welcome) is None)
        and not _imported(session, card)
    ):
        life = rules.welcome.expires or rules.expiry
        credits.append(("bonus", welcome, "welcome", rules.welcome.points, life))
    held, due = unlocks.nth_shortfall(session, card, rules, new_card) if counted else (0, 0)
    for index in range(due):
        assert rules.every_nth is not None
        credits.append(
            (
                "bonus",
                f"{key}:nth" + (f":{index + 1}" if index else ""),
                f"{unlocks.NTH_CAUSE}{held + index + 1}",
                rules.every_nth.points,
                rules.expiry,
            )
        )
    _check_limits(rules, [points for _, _, _, points, _ in credits])
    available_at, _ = lot_dates(paid_at, rules.hold_days, None, rules.timezone)
    entries = []
    for kind, entry_key, cause, points, life in credits:
        _, expires_at = lot_dates(paid_at, rules.hold_days, life, rules.timezone)
        posted = ledger.credit(
            session,
            card,
            kind=kind,
            key=entry_key,
            points=points,
            cause=cause,
            now=now,
            available_at=available_at,
            expires_at=expires_at,
            max_points=rules.max_points_per_entry,
            order_id=order.id,
            actor=actor,
            fresh=True,  # settled above; keys derive from this new order or were just checked
        )
        entries.append(posted.entry)
    if due < 0:  # every_nth.orders was raised since: the count carries fewer rewards
        unlocks.revoke_surplus_nth(session, card, rules, key, now)
    room = rules.max_points_per_order - sum(points for _, _, _, points, _ in credits)
    extra = campaigns.award_order(  # the campaigns running when it was paid (cut to fit)
        session,
        program,
        rules,
        card,
        order,
        tier_code=tier.code if tier else None,
        base=base,
        room=room,
        now=now,
        actor=actor,
    )
    entries.extend(extra)
    order.base_points = base
    order.bonus_points = sum(entry.points for entry in entries if entry.kind == "bonus")
    card_changed(session, card, now)  # the order count and progress changed, points or not
    return OrderAward(order, created=True, entries=tuple(entries))


def _check_limits(rules: ProgramRules, amounts: list[int]) -> None:
    for points in amounts:
        if points > rules.max_points_per_entry:
            raise LimitExceeded(
                f"{points} points is above the programme's limit of "
                f"{rules.max_points_per_entry} per entry; nothing was applied"
            )
    if sum(amounts) > rules.max_points_per_order:
        raise LimitExceeded(
            f"{sum(amounts)} points is above the programme's limit of "
            f"{rules.max_points_per_order} per order; nothing was applied"
        )


def award_birthday(
    session: Session, program: Program, card_id: int, now: datetime
) -> Posted | None:
    """The yearly birthday bonus, on the birthday in the programme's time zone (or within a week
    after, should the daily job miss a day); once per card and year."""
    rules = program_rules(program)
    if rules.birthday is None:
        return None
    card = ledger.lock_card(session, card_id)
    customer = session.get(Customer, card.customer_id)
    if customer is None or customer.birthday is None:
        return None
    today = now.astimezone(ZoneInfo(rules.timezone)).date()
    for year in (today.year, today.year - 1):  # a birthday on 31 Dec still counts on 2 Jan
        day = birthday_in(customer.birthday, year)
        if day <= today < day + timedelta(days=BIRTHDAY_GRACE_DAYS):
            key = f"card:{card.id}:birthday:{year}"
            existing = ledger.find_entry_any(session, program.id, key)
            if existing is not None:
                return Posted(existing, created=False)
            available_at, expires_at = lot_dates(
                now, 0, rules.birthday.expires or rules.expiry, rules.timezone
            )
            return ledger.credit(
                session,
                card,
                kind="bonus",
                key=key,
                points=rules.birthday.points,
                cause=f"birthday:{year}",
                now=now,
                available_at=available_at,
                expires_at=expires_at,
                max_points=rules.max_points_per_entry,
            )
    return None
