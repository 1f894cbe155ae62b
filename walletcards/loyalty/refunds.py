"""Refunds and cancellations of paid orders: reversed pro rata and exactly once.

:func:`apply_refund` / :func:`apply_cancel` take a refund or cancellation end to end (re-exported
by :mod:`~walletcards.loyalty.awards`): each refund's amounts, a reversal kept while its order is
unknown (:mod:`~walletcards.loyalty.early`), else the reversal entries, the tier and the points
its codes spent (``redemption_orders``); :func:`reverse_order`: one reversal, amounts given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.loyalty import campaigns, early, ledger, order_facts, unlocks
from walletcards.loyalty.cards import card_changed
from walletcards.loyalty.models import Card, EarlyReversal, LedgerEntry, Lot, Order, Program, Refund
from walletcards.loyalty.order_book import (
    OrderRejected,
    Outcome,
    UnknownOrder,
    lock_with_card,
    order_key,
)
from walletcards.loyalty.programs import program_rules
from walletcards.loyalty.redemption_orders import order_reversed
from walletcards.loyalty.rules import (
    RefundInfo,
    counts,
    pro_rata_eligible,
    refund_amounts,
    reversal_target,
)
from walletcards.loyalty.tiers import COUNTING, refresh_tier

NOT_SEEN = "the order has not been seen yet: kept, and applied when it arrives"


@dataclass(frozen=True)
class RefundResult:
    refund: Refund
    created: bool


def apply_refund(
    session: Session,
    program: Program,
    source: str,
    external_id: str,
    refunds: Sequence[RefundInfo],
    now: datetime,
) -> Outcome:
    """A shop's refunds of one order, each once: "applied" if any was new, "duplicate" if all
    had been; "ignored" (kept) while the order is not known yet."""
    return _apply(session, program, source, external_id, refunds, cancel=False, now=now)


def apply_cancel(
    session: Session,
    program: Program,
    source: str,
    external_id: str,
    refunds: Sequence[RefundInfo],
    now: datetime,
) -> Outcome:
    """A shop's cancellation of one order (after the ``refunds`` it carries): the rest of the
    order's points are reversed and it stops counting; answered as :func:`apply_refund`."""
    return _apply(session, program, source, external_id, refunds, cancel=True, now=now)


def _apply(
    session: Session,
    program: Program,
    source: str,
    external_id: str,
    refunds: Sequence[RefundInfo],
    *,
    cancel: bool,
    now: datetime,
) -> Outcome:
    early.lock_order(session, program.id, source, external_id)
    earning = program_rules(program).earning
    reversals: list[tuple[str, int, int | None, bool]] = [  # key, total, eligible, cancel
        (refund.key, *refund_amounts(earning, refund), False) for refund in refunds
    ]
    if cancel:
        reversals.append((f"{order_key(source, external_id)}:cancel", 0, 0, True))
    locked = lock_with_card(session, program.id, source, external_id)
    if locked is None:  # not seen yet: kept, and applied if and when the order arrives
        kept = [
            early.remember(
                session,
                program.id,
                source=source,
                external_id=external_id,
                key=key,
                kind="cancel" if is_cancel else "refund",
                refunded_minor=total,
                refunded_eligible_minor=eligible,
                now=now,
            )
            for key, total, eligible, is_cancel in reversals
        ]
        order_reversed(session, program, source, external_id, "cancelled" if cancel else "", now)
        # nothing to apply yet ("ignored"), but nothing is lost either
        return Outcome("ignored" if any(kept) else "duplicate", None, NOT_SEEN)
    card, order = locked
    created = False
    for key, total, eligible, is_cancel in reversals:
        result = reverse(
            session,
            program,
            card,
            order,
            key=key,
            refunded_minor=total,
            refunded_eligible_minor=(
                pro_rata_eligible(order.total_minor, order.eligible_minor, total)
                if eligible is None
                else eligible
            ),
            cancel=is_cancel,
            now=now,
        )
        created = created or result.created
    order_reversed(session, program, source, external_id, order.status, now)  # codes spent
    return Outcome("applied" if created else "duplicate", card)


def apply_kept(
    session: Session,
    program: Program,
    card: Card,
    order: Order,
    kept: Sequence[EarlyReversal],
    now: datetime,
) -> None:
    """Apply the reversals ``kept`` for ``order`` (just awarded; ``card`` locked), once each,
    and forget them."""
    for row in kept:
        eligible = row.refunded_eligible_minor
        if eligible is None:  # a bare amount: pro rata, now that the order is known
            eligible = pro_rata_eligible(
                order.total_minor, order.eligible_minor, row.refunded_minor
            )
        reverse(
            session,
            program,
            card,
            order,
            key=row.idempotency_key,
            refunded_minor=row.refunded_minor,
            refunded_eligible_minor=eligible,
            cancel=row.kind == "cancel",
            now=now,
        )
        session.delete(row)


def _check_amounts(refunded_minor: int, refunded_eligible_minor: int) -> None:
    if refunded_minor < 0 or refunded_eligible_minor < 0:
        raise OrderRejected("refund amounts cannot be negative")


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
    """Apply a refund (amounts refunded by it) or a cancellation to an order, exactly once
    (:func:`reverse`); :class:`UnknownOrder` when there is no such order."""
    _check_amounts(refunded_minor, refunded_eligible_minor)
    locked = lock_with_card(session, program.id, source, external_id)
    if locked is None:
        raise UnknownOrder(f"no order {external_id!r} from {source!r}")
    card, order = locked
    return reverse(
        session,
        program,
        card,
        order,
        key=key,
        refunded_minor=refunded_minor,
        refunded_eligible_minor=refunded_eligible_minor,
        cancel=cancel,
        now=now,
    )


def reverse(
    session: Session,
    program: Program,
    card: Card,
    order: Order,
    *,
    key: str,
    refunded_minor: int,
    refunded_eligible_minor: int,
    cancel: bool,
    now: datetime,
) -> RefundResult:
    """Apply one refund or cancellation under ``key`` to ``order`` (its ``card`` locked).

    Base points are reversed pro rata to the eligible amount refunded so far (rounded down, so
    the total never exceeds what was earned), less what of them expired. When the order stops
    counting (cancelled, fully refunded, or refunded below the minimum) it gives back what it
    unlocked (:func:`walletcards.loyalty.unlocks.uncount`); campaign points go back with it
    (:func:`walletcards.loyalty.campaigns.take_back`).
    """
    _check_amounts(refunded_minor, refunded_eligible_minor)
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
    cause = order_key(order.source, order.external_id)
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
    order_facts.refresh(session, card)
    taken = points
    left = order.eligible_minor - order.refunded_eligible_minor
    counting = order.status in COUNTING and counts(rules.earning, left)
    if not counting:
        taken += unlocks.uncount(session, card, order, rules, cause, now)
    taken += campaigns.take_back(session, card, order, full=full, counting=counting, now=now)
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
