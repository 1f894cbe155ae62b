"""Orders to ledger entries: award a paid order (base points + welcome + every-Nth), reverse a
refund or cancellation pro rata and exactly once, and the yearly birthday bonus. What an order
unlocks by counting, and taking it back: :mod:`walletcards.loyalty.unlocks`.

Each function locks the card, checks every limit before writing anything, and raises a
:class:`~walletcards.loyalty.ledger.LedgerError` (nothing written) when the order cannot apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.loyalty import ledger, unlocks
from walletcards.loyalty.cards import card_changed
from walletcards.loyalty.config_rules import ProgramRules
from walletcards.loyalty.ledger import LedgerError, LimitExceeded, Posted
from walletcards.loyalty.models import Customer, LedgerEntry, Lot, Order, Program, Refund
from walletcards.loyalty.periods import Span
from walletcards.loyalty.programs import program_rules
from walletcards.loyalty.rules import (
    OrderFacts,
    birthday_in,
    counts,
    earning_rate,
    eligible_minor,
    lot_dates,
    points_for,
    reversal_target,
)
from walletcards.loyalty.tiers import COUNTING, refresh_tier

BIRTHDAY_GRACE_DAYS = 7  # a daily job that missed a day still awards, once a year


class OrderRejected(LedgerError):
    code = "order_rejected"
    status = 422


class UnknownOrder(LedgerError):
    code = "unknown_order"
    status = 404


@dataclass(frozen=True)
class OrderAward:
    order: Order
    created: bool  # False: the order had been applied before and nothing was written
    entries: tuple[LedgerEntry, ...]


@dataclass(frozen=True)
class RefundResult:
    refund: Refund
    created: bool


def order_key(source: str, external_id: str) -> str:
    return f"{source}:order:{external_id}"


def find_order(session: Session, program_id: int, source: str, external_id: str) -> Order | None:
    return session.execute(
        select(Order).where(
            Order.program_id == program_id, Order.source == source, Order.external_id == external_id
        )
    ).scalar_one_or_none()


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
    if facts.currency != program.currency:
        raise OrderRejected(
            f"order currency {facts.currency} differs from the programme's {program.currency}"
        )
    card = ledger.lock_card(session, card_id)
    existing = find_order(session, program.id, facts.source, facts.external_id)
    if existing is not None:
        return OrderAward(existing, created=False, entries=())
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
        and card.paid_orders == 1
        and ledger.find_entry_any(session, program.id, welcome) is None
    ):
        life = rules.welcome.expires or rules.expiry
        credits.append(("bonus", welcome, "welcome", rules.welcome.points, life))
    held, due = unlocks.nth_shortfall(session, card, rules) if counted else (0, 0)
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
    order.base_points = base
    order.bonus_points = sum(points for kind, _, _, points, _ in credits if kind == "bonus")
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


def reverse_order(
    session: Session,
    program: Program,
    *,
    source: str,
    external_id: str,
    key: str,
    refunded_minor: int,
    refunded_eligible_minor: int,
    cancel: bool,
    now: datetime,
) -> RefundResult:
    """Apply a refund (amounts refunded by it) or a cancellation to an order, exactly once.

    Base points are reversed pro rata to the eligible amount refunded so far (rounded down, so
    the total never exceeds what was earned), less what of them expired. When the order stops
    counting (cancelled, fully refunded, or refunded below the minimum) it gives back what it
    unlocked (:func:`walletcards.loyalty.unlocks.uncount`).
    """
    if refunded_minor < 0 or refunded_eligible_minor < 0:
        raise OrderRejected("refund amounts cannot be negative")
    order = find_order(session, program.id, source, external_id)
    if order is None:
        raise UnknownOrder(f"no order {external_id!r} from {source!r}")
    card = ledger.lock_card(session, order.card_id)
    session.refresh(order, with_for_update=True)
    digest = ledger.input_hash(
        {
            "order": order.id,
            "refunded": refunded_minor,
            "cancel": cancel,
            "refunded_eligible": refunded_eligible_minor,
        }
    )
    refund = session.execute(
        select(Refund).where(Refund.program_id == program.id, Refund.idempotency_key == key)
    ).scalar_one_or_none()
    if refund is not None:
        if refund.input_hash != digest:
            raise ledger.IdempotencyConflict(
                f"refund {key!r} was already applied with other amounts"
            )
        return RefundResult(refund, created=False)
    rules = program_rules(program)
    ledger.settle_time(session, card, now)  # points expired by now are never taken back
    order.refunded_minor = min(order.total_minor, order.refunded_minor + refunded_minor)
    order.refunded_eligible_minor = min(
        order.eligible_minor, order.refunded_eligible_minor + refunded_eligible_minor
    )
    full = cancel or (
        order.refunded_eligible_minor >= order.eligible_minor
        and order.refunded_minor >= order.total_minor
    )
    target = (
        order.base_points
        if full
        else reversal_target(order.base_points, order.eligible_minor, order.refunded_eligible_minor)
    )
    earned = list(
        session.execute(
            select(Lot.id)
            .join(LedgerEntry, LedgerEntry.id == Lot.entry_id)
            .where(Lot.order_id == order.id, LedgerEntry.kind == "earn")
        ).scalars()
    )
    # What expired of the base points counts as given back; the rest of the target is taken.
    expired = ledger.expired_points(session, earned)
    points = max(max(target - expired, 0) - order.points_reversed, 0)
    cause = order_key(source, external_id)
    entry = None
    if points > 0:
        entry = ledger.reverse(
            session,
            card,
            key=f"{key}:reversal",
            points=points,
            cause=cause,
            now=now,
            order_id=order.id,
            prefer_lots=earned,
        ).entry
        order.points_reversed += points
    if cancel:
        order.status = "cancelled"
    elif order.status != "cancelled":  # a late refund never revives a cancelled order
        order.status = "refunded" if full else "partially_refunded"
    taken = points
    left = order.eligible_minor - order.refunded_eligible_minor
    if order.status not in COUNTING or not counts(rules.earning, left):
        taken += unlocks.uncount(session, card, order, rules, cause, now)
    refresh_tier(session, rules, card, now, "lower")
    refund = Refund(
        program_id=program.id,
        order_id=order.id,
        idempotency_key=key,
        input_hash=digest,
        kind="cancel" if cancel else "refund",
        refunded_minor=refunded_minor,
        refunded_eligible_minor=refunded_eligible_minor,
        points_reversed=taken,
        entry_id=entry.id if entry else None,
        created_at=now,
    )
    session.add(refund)
    card_changed(session, card, now)
    session.flush()
    return RefundResult(refund, created=True)


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
