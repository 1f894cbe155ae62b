"""What the customer sees on their card, computed once from ledger state.

Both wallets render this: ``apple/`` and ``google/`` only translate it into their formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from walletcards import texts
from walletcards.campaign_face import campaign_lines
from walletcards.codes import card_code
from walletcards.face_facts import face_facts
from walletcards.i18n import LANGUAGES
from walletcards.loyalty.config_card import CardInfo
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.loyalty.programs import program_config
from walletcards.loyalty.referral_codes import referral_code
from walletcards.loyalty.reservations import open_for_card
from walletcards.loyalty.rules import next_tier, orders_to_nth_reward
from walletcards.loyalty.tiers import tier_outlook
from walletcards.money import from_minor, points_value_minor


@dataclass(frozen=True)
class CardFace:
    locale: str  # the customer's language (the programme's default if it does not offer theirs)
    program_name: str  # in that language
    customer_name: str
    member_number: str
    code: str  # the QR message
    available: int
    pending: int
    tier: str | None  # the tier's name in ``locale``
    # "2 more orders to Gold"; with a windowed tier first what keeps it ("Buy 1 more time by
    # 12 Mar to keep Silver · 2 more orders to Gold"); None at the top or without tiers
    next_tier: str | None
    reward_progress: str | None  # "2 more orders to your reward"
    expiring_points: int
    expiring_on: date | None
    expiring: str | None  # "120 points expire on 12 Dec"
    version: int
    languages: tuple[str, ...] = LANGUAGES  # what the programme offers (labels in each)
    # what the available points are worth at [redemption] point_value, rounded down to minor
    # units, and that amount formatted for the card's language; None without a point_value
    value_minor: int | None = None
    value: str | None = None
    # the open online-redemption codes, one line each ("DEMO-…: $5.00 until Apr 14")
    codes: tuple[str, ...] = ()
    # the running campaigns for this card, one line each ("Black Friday: Double points until
    # Nov 30"; campaign_face.py)
    campaigns: tuple[str, ...] = ()
    discount: str | None = None  # the tier's price discount, "10% off" ([[tiers.levels]])
    referral: str | None = None  # the card's referral code ([referral]; the link is /r/<code>)
    # the customer's data was erased: Apple's pass is ``voided``, Google's object INACTIVE
    voided: bool = False
    # the owner's latest unexpired message to this card and its link (walletcards/messages/)
    message: str | None = None
    message_link: str | None = None
    # the programme's [card] terms, contact, website and how to earn, in ``locale``
    about: CardInfo = field(default_factory=CardInfo)

    def label(self, key: str) -> str:
        return texts.labels(self.locale)[key] if key != "none" else texts.NONE

    @property
    def tier_line(self) -> str:
        """The tier as the card shows it: "Gold · 10% off", "Gold", or "—" without a tier."""
        if self.tier is None:
            return self.label("none")
        return texts.tier_with_discount(self.tier, self.discount) if self.discount else self.tier

    @property
    def balance(self) -> str:
        """The available points as words: "1 point", "21 балл", "5积分"."""
        return texts.points(self.locale, self.available)

    @property
    def change_points(self) -> str:
        """Lock-screen notice for a new balance, its plural fitting this one ("%@" = value)."""
        return texts.change_points(self.locale, self.available)

    @property
    def change_tier(self) -> str:
        return texts.change_tier(self.locale)

    @property
    def description(self) -> str:
        return texts.pass_description(self.locale, self.program_name)

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
    wanted = locale or (customer.locale if customer else None)
    lang = texts.language_of(wanted, config.languages, config.locale)
    tier = None
    upcoming = None
    if rules.tiers is not None:
        outlook = tier_outlook(session, rules, card, now)
        tier = outlook.tier
        found = next_tier(rules.tiers, outlook.metric, tier.code if tier else None)
        if found is not None:
            level, missing = found
            upcoming = (
                texts.orders_to_tier(lang, missing, level.name_in(lang))
                if rules.tiers.qualify_by == "paid_orders"
                else texts.spend_to_tier(lang, _money(lang, program, missing), level.name_in(lang))
            )
        if outlook.keep is not None and tier is not None:
            needed, before = outlook.keep
            by = before.astimezone(ZoneInfo(rules.timezone)).date()
            keep = (
                texts.keep_tier_orders(lang, needed, by, tier.name_in(lang))
                if rules.tiers.qualify_by == "paid_orders"
                else texts.keep_tier_spend(
                    lang, _money(lang, program, needed), by, tier.name_in(lang)
                )
            )
            upcoming = f"{keep} · {upcoming}" if upcoming else keep
    reward = None
    if rules.every_nth is not None:
        reward = texts.orders_to_reward(
            lang, orders_to_nth_reward(card.paid_orders, rules.every_nth.orders)
        )
    horizon = (
        now + timedelta(days=rules.expiry_warn_days)
        if rules.expiry is not None and rules.expiry_warn_days > 0
        else None
    )
    facts = face_facts(session, card, now, horizon, lang, config.locale)  # one query
    expiring_points, expiring_on, expiring = 0, None, None
    if facts.expiring is not None:
        expiring_points, first = facts.expiring
        expiring_on = first.astimezone(ZoneInfo(rules.timezone)).date()
        expiring = texts.expiring(lang, expiring_points, expiring_on)
    balance = facts.balance
    value_minor = (
        None
        if rules.point_value is None
        else points_value_minor(balance.available, rules.point_value, program.currency)
    )
    zone = ZoneInfo(rules.timezone)
    codes = tuple(
        texts.open_code(
            lang,
            r.code or "",
            _money(lang, program, r.value_minor),
            r.expires_at.astimezone(zone).date(),
        )
        for r in (open_for_card(session, card) if facts.open_codes else ())
    )
    message, message_link = facts.message
    return CardFace(
        locale=lang,
        program_name=config.name_in(lang),
        customer_name=(customer.name if customer and customer.name else ""),
        member_number=card.member_number,
        code=card_code(secret_key, program.slug, card.member_number),
        available=balance.available,
        pending=balance.pending,
        tier=tier.name_in(lang) if tier else None,
        next_tier=upcoming,
        reward_progress=reward,
        expiring_points=expiring_points,
        expiring_on=expiring_on,
        expiring=expiring,
        version=card.version,
        languages=config.languages,
        value_minor=value_minor,
        value=None if value_minor is None else _money(lang, program, value_minor),
        codes=codes,
        campaigns=campaign_lines(session, program, card, lang, now),
        discount=(
            texts.tier_discount(lang, tier.discount_percent)
            if tier and tier.discount_percent
            else None
        ),
        voided=customer is not None and customer.erased_at is not None,
        referral=referral_code(card.id, card.qr_secret) if config.referral else None,
        message=message,
        message_link=message_link,
        about=config.card.info(lang),
    )


def _money(lang: str, program: Program, minor: int) -> str:
    return texts.money(lang, from_minor(minor, program.currency), program.currency)
