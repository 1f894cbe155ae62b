"""What counting orders unlock, and taking it back: the welcome bonus and every-Nth rewards.

An order counts when its eligible amount reaches ``[earning] min_order_amount`` (any amount
above zero by default) — a $0 order or a gift-card-only order unlocks nothing. The welcome
bonus goes with the first counting order, once per card ever. Every-Nth rewards follow the
count: a card holds exactly ``paid_orders // N`` of them at every moment, so a cancellation
that drops the count below a multiple of N takes the latest reward back, and reaching the
multiple again earns it again.

A bonus is taken back by a ``reversal`` keyed ``<bonus key>:reversal`` (so once), drawn from its
own lot first; only the part that was spent can become debt, the part that expired is gone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from walletcards.loyalty import ledger
from walletcards.loyalty.config_rules import ProgramRules
from walletcards.loyalty.models import Card, LedgerEntry, Lot, Order
from walletcards.loyalty.rules import nth_rewards_due

NTH_CAUSE = "every_nth:"


def welcome_key(card: Card) -> str:
    return f"card:{card.id}:welcome"


def revocation_key(grant: LedgerEntry) -> str:
    return f"{grant.idempotency_key}:reversal"


def held_nth_rewards(session: Session, card: Card) -> list[LedgerEntry]:
    """The every-Nth rewards the card holds (granted, not taken back), oldest first."""
    revocation = aliased(LedgerEntry)
    return list(
        session.execute(
            select(LedgerEntry)
            .where(
                LedgerEntry.card_id == card.id,
                LedgerEntry.kind == "bonus",
                LedgerEntry.cause.startswith(NTH_CAUSE, autoescape=True),
                ~exists().where(
                    revocation.program_id == LedgerEntry.program_id,
                    revocation.idempotency_key == LedgerEntry.idempotency_key + ":reversal",
                ),
            )
            .order_by(LedgerEntry.id)
        ).scalars()
    )


def nth_shortfall(
    session: Session, card: Card, rules: ProgramRules, new_card: bool = False
) -> tuple[int, int]:
    """(rewards held, rewards due minus held): positive when rewards are to be granted.
    ``new_card``: made in this transaction, it holds none (no query)."""
    if rules.every_nth is None:
        return 0, 0
    held = 0 if new_card else len(held_nth_rewards(session, card))
    return held, nth_rewards_due(card.paid_orders, rules.every_nth.orders) - held


def revoke(session: Session, card: Card, grant: LedgerEntry, cause: str, now: datetime) -> int:
    """Take a bonus back once: its own lot first; the spent part may become debt, the expired
    part is not taken. Returns the points taken."""
    lots = list(session.execute(select(Lot.id).where(Lot.entry_id == grant.id)).scalars())
    points = max(grant.points - ledger.expired_points(session, lots), 0)
    ledger.reverse(
        session,
        card,
        key=revocation_key(grant),
        points=points,
        cause=cause,
        now=now,
        order_id=grant.order_id,
        prefer_lots=lots,
    )
    return points


def revoke_surplus_nth(
    session: Session, card: Card, rules: ProgramRules, cause: str, now: datetime
) -> int:
    """Take back the latest every-Nth rewards the count no longer carries; the points taken."""
    if rules.every_nth is None:
        return 0
    held = held_nth_rewards(session, card)
    keep = nth_rewards_due(card.paid_orders, rules.every_nth.orders)
    return sum(revoke(session, card, grant, cause, now) for grant in reversed(held[keep:]))


def uncount(
    session: Session, card: Card, order: Order, rules: ProgramRules, cause: str, now: datetime
) -> int:
    """The order stops counting (cancelled, refunded, or refunded below the minimum): it leaves
    the count and gives back the welcome bonus it unlocked and any every-Nth reward the count
    no longer carries, exactly once. Returns the points taken."""
    if not order.counted:
        return 0
    order.counted = False
    card.paid_orders -= 1
    taken = 0
    welcome = ledger.find_entry_any(session, card.program_id, welcome_key(card))
    if (
        welcome is not None
        and welcome.order_id == order.id
        and ledger.find_entry_any(session, card.program_id, revocation_key(welcome)) is None
    ):
        taken += revoke(session, card, welcome, cause, now)
    return taken + revoke_surplus_nth(session, card, rules, cause, now)
