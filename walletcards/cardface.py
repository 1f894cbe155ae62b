"""What the customer sees on their card, computed once from ledger state.

Both wallets render this: ``apple/`` and ``google/`` only translate it into their formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from walletcards import texts
from walletcards.codes import card_code
from walletcards.loyalty import ledger
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.loyalty.programs import program_config
from walletcards.loyalty.rules import next_tier, orders_to_nth_reward, tier_by_code
from walletcards.loyalty.tiers import qualifying_metric
from walletcards.money import format_money, from_minor, points_value_minor


@dataclass(frozen=True)
class CardFace:
    locale: str
    program_name: str
    customer_name: str
    member_number: str
    code: str  # the QR message
    available: int
    pending: int
    tier: str | None  # the tier's display name
    next_tier: str | None  # "2 more orders to Gold"; None at the top or without tiers
    reward_progress: str | None  # "2 more orders to your reward"
    expiring_points: int
    expiring_on: date | None
    expiring: str | None  # "120 points expire on 12 Dec"
    version: int
    # what the available points are worth at [redemption] point_value, rounded down to minor
    # units, and that amount formatted for the card's language; None without a point_value
    value_minor: int | None = None
    value: str | None = None

    def label(self, key: str) -> str:
        return texts.LABELS[self.locale][key]

    @property
    def worth(self) -> str | None:
        """ "650 points = $6.50" in the card's language, or None without a point value."""
        return (
            None
            if self.value is None
            else texts.points_worth(self.locale, self.available, self.value)
        )


def card_face(
    session: Session,
    program: Program,
    card: Card,
    now: datetime,
    secret_key: str,
    locale: str | None = None,
) -> CardFace:
    config = program_config(program)
    rules = config.rules
    customer = session.get(Customer, card.customer_id)
    lang = texts.locale_of(locale or (customer.locale if customer else None), config.locale)
    tier = tier_by_code(rules.tiers, card.tier_code)
    upcoming = None
    if rules.tiers is not None:
        metric = qualifying_metric(session, rules.tiers, card, now)
        found = next_tier(rules.tiers, metric, card.tier_code)
        if found is not None:
            level, missing = found
            amount = (
                texts.orders_count(lang, missing)
                if rules.tiers.qualify_by == "paid_orders"
                else f"{from_minor(missing, program.currency)} {program.currency}"
            )
            upcoming = texts.to_next_tier(lang, amount, level.name)
    reward = None
    if rules.every_nth is not None:
        reward = texts.orders_to_reward(
            lang, orders_to_nth_reward(card.paid_orders, rules.every_nth.orders)
        )
    expiring_points, expiring_on, expiring = 0, None, None
    if rules.expiry_days is not None and rules.expiry_warn_days > 0:
        horizon = now + timedelta(days=rules.expiry_warn_days)
        rows = [
            r for r in ledger.expiring_before(session, program.id, horizon, now, card_id=card.id)
        ]
        if rows:
            _, expiring_points, first = rows[0]
            expiring_on = first.astimezone(ZoneInfo(rules.timezone)).date()
            expiring = texts.expiring(lang, expiring_points, expiring_on)
    value_minor = (
        None
        if rules.point_value is None
        else points_value_minor(card.available, rules.point_value, program.currency)
    )
    return CardFace(
        locale=lang,
        program_name=program.name,
        customer_name=(customer.name if customer and customer.name else ""),
        member_number=card.member_number,
        code=card_code(secret_key, program.slug, card.member_number),
        available=card.available,
        pending=card.pending,
        tier=tier.name if tier else None,
        next_tier=upcoming,
        reward_progress=reward,
        expiring_points=expiring_points,
        expiring_on=expiring_on,
        expiring=expiring,
        version=card.version,
        value_minor=value_minor,
        value=None if value_minor is None else format_money(value_minor, program.currency, lang),
    )
