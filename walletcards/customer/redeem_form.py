"""The card page's "spend points online" section: what it offers (steps or a bounded amount,
with their money value), the customer's open codes, and the form token that guards its posts.

The card token in the URL is the customer's only credential, so the forms carry a signed token
(itsdangerous, the app's secret key) bound to that card token and to a one-off nonce: another
site cannot forge it without the card token, it expires after ``FORM_AGE`` seconds, and its
nonce is the reservation's idempotency key, so a replayed form gets the same code back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from walletcards.i18n import Language, language
from walletcards.loyalty.config_redemption import RedemptionRules
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import program_rules
from walletcards.loyalty.redemption_models import Redemption
from walletcards.loyalty.reservations import open_for_card
from walletcards.money import exponent, from_minor, points_value_minor

FORM_AGE = 12 * 3600  # a page left open longer asks to be reloaded
SALT = "walletcards.card-redemption"
MAX_FORM_TOKEN = 300


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def form_token(secret: str, card_token: str) -> str:
    """A fresh signed token for the page's forms: [card token, nonce]."""
    return _signer(secret).dumps([card_token, secrets.token_urlsafe(16)])


def form_nonce(secret: str, card_token: str, value: str | None) -> str | None:
    """The nonce of a valid, unexpired form token issued for this card; None otherwise."""
    if not value or len(value) > MAX_FORM_TOKEN:
        return None
    try:
        signed = _signer(secret).loads(value, max_age=FORM_AGE)
    except BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(signed, list) or len(signed) != 2 or signed[0] != card_token:
        return None
    nonce = signed[1]
    return nonce if isinstance(nonce, str) else None


@dataclass(frozen=True)
class Step:
    points: int
    value: str  # the money it is worth, in the card's language
    enabled: bool  # within the available balance


@dataclass(frozen=True)
class OpenCode:
    id: int
    code: str
    points: str  # "500 points" in the card's language
    value: str
    expires: str  # a day in the programme's time zone, in the card's language


@dataclass(frozen=True)
class RedeemSection:
    steps: tuple[Step, ...]  # empty: a number input from ``low`` to ``high``
    low: int
    high: int  # 0 when the card cannot reserve anything yet
    rate: str  # "1 point = $0.01"
    low_value: str  # what ``low`` points are worth, shown before the page's script runs
    # for the page's script, which shows the value live while the customer types an amount:
    point_value: str  # the programme's decimal point value ("0.01")
    currency: str
    exponent: int  # the currency's decimals
    locale: str  # the card's language, formatting like the server does
    shop_url: str | None
    codes: tuple[OpenCode, ...]
    form_token: str


def _money(t: Language, program: Program, points: int, point_value: Decimal) -> str:
    minor = points_value_minor(points, point_value, program.currency)
    return t.money(from_minor(minor, program.currency), program.currency)


def redeem_section(
    session: Session,
    program: Program,
    card: Card,
    lang: str,
    now: datetime,
    secret: str,
) -> RedeemSection | None:
    """The section, or None when the programme gives points no money value."""
    rules = program_rules(program)
    if rules.point_value is None:
        return None
    t = language(lang)
    offer = rules.redemption
    zone = ZoneInfo(rules.timezone)
    steps = tuple(
        Step(n, _money(t, program, n, rules.point_value), n <= card.available) for n in offer.steps
    )
    high = min(card.available, offer.max_points or card.available)
    codes = tuple(
        OpenCode(
            r.id,
            r.code or "",
            t.ngettext("%(num)s point", "%(num)s points", r.points),
            t.money(from_minor(r.value_minor, program.currency), program.currency),
            t.day(r.expires_at.astimezone(zone).date()),
        )
        for r in open_for_card(session, card)
    )
    return RedeemSection(
        steps=steps,
        low=offer.min_points,
        high=high if high >= offer.min_points else 0,
        rate=t.gettext("1 point = %(value)s", value=_money(t, program, 1, rules.point_value)),
        low_value=_money(t, program, offer.min_points, rules.point_value),
        point_value=format(rules.point_value, "f"),
        currency=program.currency,
        exponent=exponent(program.currency),
        locale=lang,
        shop_url=offer.shop_url,
        codes=codes,
        form_token=form_token(secret, card.public_token),
    )


def refusal(lang: str, offer: RedemptionRules, points: int, available: int) -> str | None:
    """Why the card page refuses ``points`` (in the card's language), None if it may reserve
    them: the same rules as ``RedemptionRules.refusal``, plus the balance."""
    t = language(lang)
    if offer.steps and points not in offer.steps:
        return t.gettext(
            "Choose one of the amounts offered: %(steps)s.",
            steps=", ".join(t.number(n) for n in offer.steps),
        )
    if points < offer.min_points:
        return t.ngettext(
            "A code needs at least %(num)s point.",
            "A code needs at least %(num)s points.",
            offer.min_points,
        )
    if offer.max_points is not None and points > offer.max_points:
        return t.ngettext(
            "A code can use at most %(num)s point.",
            "A code can use at most %(num)s points.",
            offer.max_points,
        )
    if points > available:
        return t.ngettext(
            "You have only %(num)s point available.",
            "You have only %(num)s points available.",
            available,
        )
    return None


def code_of(session: Session, card: Card, redemption_id: int) -> Redemption | None:
    """The card's own redemption ``redemption_id`` (another card's is as good as none)."""
    found = session.get(Redemption, redemption_id) if 0 < redemption_id < 2**63 else None
    return found if found is not None and found.card_id == card.id else None
