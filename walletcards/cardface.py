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
from walletcards.loyalty.rules import next_tier, orders_to_nth_reward
from walletcards.loyalty.tiers import tier_outlook
from walletcards.money import from_minor


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
    # "2 more orders to Gold"; with a windowed tier first what keeps it ("Buy 1 more time by
    # 12 Mar to keep Silver · 2 more orders to Gold"); None at the top or without tiers
    next_tier: str | None
    reward_progress: str | None  # "2 more orders to your reward"
    expiring_points: int
    expiring_on: date | None
    expiring: str | None  # "120 points expire on 12 Dec"
    version: int

    def label(self, key: str) -> str:
        return texts.LABELS[self.locale][key]


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
    tier = None
    upcoming = None
    if rules.tiers is not None:
        outlook = tier_outlook(session, rules, card, now)
        tier = outlook.tier
        found = next_tier(rules.tiers, outlook.metric)
        if found is not None:
            level, missing = found
            amount = (
                texts.orders_count(lang, missing)
                if rules.tiers.qualify_by == "paid_orders"
                else _money(program, missing)
            )
            upcoming = texts.to_next_tier(lang, amount, level.name)
        if outlook.keep is not None and tier is not None:
            needed, before = outlook.keep
            by = before.astimezone(ZoneInfo(rules.timezone)).date()
            keep = (
                texts.keep_tier_orders(lang, needed, by, tier.name)
                if rules.tiers.qualify_by == "paid_orders"
                else texts.keep_tier_spend(lang, _money(program, needed), by, tier.name)
            )
            upcoming = f"{keep} · {upcoming}" if upcoming else keep
    reward = None
    if rules.every_nth is not None:
        reward = texts.orders_to_reward(
            lang, orders_to_nth_reward(card.paid_orders, rules.every_nth.orders)
        )
    expiring_points, expiring_on, expiring = 0, None, None
    if rules.expiry is not None and rules.expiry_warn_days > 0:
        horizon = now + timedelta(days=rules.expiry_warn_days)
        rows = [
            r for r in ledger.expiring_before(session, program.id, horizon, now, card_id=card.id)
        ]
        if rows:
            _, expiring_points, first = rows[0]
            expiring_on = first.astimezone(ZoneInfo(rules.timezone)).date()
            expiring = texts.expiring(lang, expiring_points, expiring_on)
    balance = ledger.settled_balance(session, card, now)
    return CardFace(
        locale=lang,
        program_name=program.name,
        customer_name=(customer.name if customer and customer.name else ""),
        member_number=card.member_number,
        code=card_code(secret_key, program.slug, card.member_number),
        available=balance.available,
        pending=balance.pending,
        tier=tier.name if tier else None,
        next_tier=upcoming,
        reward_progress=reward,
        expiring_points=expiring_points,
        expiring_on=expiring_on,
        expiring=expiring,
        version=card.version,
    )


def _money(program: Program, minor: int) -> str:
    return f"{from_minor(minor, program.currency)} {program.currency}"
