"""The till's tier discount: what a purchase costs a card's customer (``POST
/api/v1/cashier/quote``) and the discount an ``earn`` says it gave, checked and recorded.

The discount is the card's tier now (the tier the card face shows) at its ``discount_percent``,
on the purchase's discountable part (loyalty/discounts.py: lines excluded by ``[tiers]
discount_exclude_*`` are not discounted; without lines all of it is). The points quoted are
what ``earn`` of the price to pay gives as base points: at the rate of the tier that purchase
reaches (as loyalty/awards.py earns), before any welcome or every-Nth bonus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from walletcards.cashier.models import TillDiscount
from walletcards.loyalty.config_rules import ProgramRules, Tier
from walletcards.loyalty.config_tier_discount import DiscountExclusions
from walletcards.loyalty.discounts import PriceQuote, most_discount_minor, quote_price
from walletcards.loyalty.ledger import LedgerError
from walletcards.loyalty.models import Card, Order, Program
from walletcards.loyalty.programs import program_rules
from walletcards.loyalty.rules import (
    OrderLine,
    counts,
    earning_rate,
    points_for,
    tier_by_code,
    tier_for,
    tier_rank,
    with_floor,
)
from walletcards.loyalty.tiers import TierOutlook, floor_active, tier_outlook
from walletcards.staff.models import Staff


class NoTierDiscount(LedgerError):
    code = "no_tier_discount"
    status = 422


class DiscountTooLarge(LedgerError):
    code = "discount_too_large"
    status = 422


@dataclass(frozen=True)
class Quote:
    tier: Tier | None  # the card's tier now
    price: PriceQuote
    points: int  # base points an earn of price.to_pay_minor gives


@dataclass(frozen=True)
class GivenDiscount:
    """What a till says it took off (``earn``'s ``discount``), checked by :func:`check_given`."""

    tier: Tier
    percent: Decimal
    discount_minor: int


def percent_text(percent: Decimal) -> str:
    """The percentage as the API writes it: "10", "7.5"."""
    return format(percent, "f")


def quote(
    session: Session,
    program: Program,
    card: Card,
    amount_minor: int,
    lines: Sequence[OrderLine],
    now: datetime,
) -> Quote:
    rules = program_rules(program)
    outlook = tier_outlook(session, rules, card, now) if rules.tiers is not None else None
    tier = outlook.tier if outlook else None
    exclusions = rules.tiers.discount_exclusions if rules.tiers else DiscountExclusions()
    percent = tier.discount_percent if tier else None
    price = quote_price(exclusions, percent, amount_minor, lines)
    reached = _tier_reached(rules, card, outlook, price.to_pay_minor, now)
    rate = earning_rate(rules, reached)
    return Quote(tier, price, points_for(price.to_pay_minor, rate, program.currency))


def _tier_reached(
    rules: ProgramRules, card: Card, outlook: TierOutlook | None, paid_minor: int, now: datetime
) -> Tier | None:
    """The tier a purchase of ``paid_minor`` (one line, as the till records it) reaches, as
    ``tiers.refresh_tier`` would set it: a lifetime tier only rises; a windowed one is what
    its window earns with this purchase in it (raised to an imported floor while it holds)."""
    tiers = rules.tiers
    if tiers is None or outlook is None:
        return None
    if tiers.qualify_by == "paid_orders":
        metric = outlook.metric + int(counts(rules.earning, paid_minor))
    else:
        metric = outlook.metric + paid_minor
    reached = with_floor(tiers, tier_for(tiers, metric), card.tier_floor, floor_active(card, now))
    if tiers.window is not None:
        return reached
    current = tier_by_code(tiers, card.tier_code)
    higher = tier_rank(tiers, reached.code if reached else None) > tier_rank(tiers, card.tier_code)
    return reached if higher else current


def check_given(
    session: Session,
    program: Program,
    card: Card,
    paid_minor: int,
    given: tuple[int, str | None],
    now: datetime,
) -> GivenDiscount:
    """The discount an earn says it gave, before the purchase is recorded: the card's tier must
    give one (at the percent the till was quoted, when it says), and the discount can be no
    more than that percent of the whole price (paid + discount)."""
    minor, said_percent = given
    rules = program_rules(program)
    tier = tier_outlook(session, rules, card, now).tier if rules.tiers is not None else None
    if tier is None or tier.discount_percent is None:
        raise NoTierDiscount("the card's tier gives no discount; record the price paid only")
    percent = tier.discount_percent
    if said_percent is not None and said_percent != percent_text(percent):
        raise DiscountTooLarge(
            f"the card's tier now gives {percent_text(percent)} %, not {said_percent}: quote again"
        )
    most = most_discount_minor(percent, paid_minor + minor)
    if minor > most:
        raise DiscountTooLarge(
            f"a {percent_text(percent)} % discount on this purchase is at most "
            f"{most} minor units of {program.currency}"
        )
    return GivenDiscount(tier, percent, minor)


def record_given(
    session: Session, order: Order, given: GivenDiscount, staff: Staff, now: datetime
) -> None:
    """The till's record of the discount, beside the order that earned on the price paid."""
    session.add(
        TillDiscount(
            order_id=order.id,
            tier_code=given.tier.code,
            percent=percent_text(given.percent),
            discount_minor=given.discount_minor,
            price_minor=order.total_minor + given.discount_minor,
            staff_id=staff.id,
            created_at=now,
        )
    )
