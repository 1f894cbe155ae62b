"""Referrals (``[referral]``, docs/referrals.md): a friend who joins through a member's link
(``/r/<code>``) or whose first order carries the code is recorded against that member; the
friend is credited ``friend_reward`` once (points, or a discount code made in the shop by the
scheduled jobs: shops/friend_codes.py), and the member ``referrer_points`` when the friend's
first order has cleared the hold (:func:`settle`, run by the scheduled jobs).

Never for oneself: the same card, email, phone or shop customer id is recorded ``cancelled``
with the reason. At most ``max_per_month`` paid per referrer and calendar month in the
programme's time zone; over it the referral is recorded ``capped``, not paid. Credits go
through the ledger with their own keys and causes (``referral:<id>:referrer`` / ``:friend``).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from walletcards.loyalty import ledger
from walletcards.loyalty.cards import phone_key
from walletcards.loyalty.models import Card, Customer, Order, Program
from walletcards.loyalty.programs import program_config, program_rules
from walletcards.loyalty.referral_codes import card_id_of, code_matches
from walletcards.loyalty.referral_models import Referral
from walletcards.loyalty.reservations import ALPHABET, CODE_LENGTH
from walletcards.loyalty.rules import lot_dates
from walletcards.money import from_minor

VOIDED = ("refunded", "cancelled")
FRIEND_PREFIX = "FRIEND-"


def referrer_of(session: Session, code: str, program: Program | None = None) -> Card | None:
    """The card whose referral code this is (of ``program`` when given); None for anything
    else, an erased customer's card included."""
    card_id = card_id_of(code)
    card = session.get(Card, card_id) if card_id is not None else None
    if card is None or not code_matches(code, card.id, card.qr_secret):
        return None
    if program is not None and card.program_id != program.id:
        return None
    customer = session.get(Customer, card.customer_id)
    return card if customer is not None and customer.erased_at is None else None


def _self_referral(session: Session, referrer: Card, friend: Card) -> str | None:
    if referrer.id == friend.id:
        return "self-referral: the same card"
    mine = session.get(Customer, referrer.customer_id)
    theirs = session.get(Customer, friend.customer_id)
    if mine is None or theirs is None:
        return "self-referral: the same card"
    if mine.email and mine.email == theirs.email:
        return "self-referral: the same email"
    if phone_key(mine.phone) and phone_key(mine.phone) == phone_key(theirs.phone):
        return "self-referral: the same phone"
    if mine.external_id and mine.external_id == theirs.external_id:
        return "self-referral: the same shop customer"
    return None


def attribute(
    session: Session, program: Program, friend: Card, code: str, now: datetime, *, via: str
) -> Referral | None:
    """Record ``friend`` as referred by the code's card (``via`` "join" or "order"); None when
    the programme has no ``[referral]``, the code names no card of it, or the friend was
    referred before. ``via="order"``: only with the friend's first order. Pays the friend's
    reward unless the sign-up waits for its confirmation (:func:`pay_friend` then)."""
    table = program_config(program).referral
    referrer = referrer_of(session, code, program) if table is not None else None
    if referrer is None:
        return None
    known = session.execute(
        select(Referral).where(
            Referral.program_id == program.id, Referral.friend_card_id == friend.id
        )
    ).scalar_one_or_none()
    if known is not None:
        return None
    if via == "order":
        orders = session.execute(
            select(func.count()).select_from(Order).where(Order.card_id == friend.id)
        ).scalar_one()
        if orders != 1:
            return None
    reason = _self_referral(session, referrer, friend)
    row = Referral(
        program_id=program.id,
        referrer_card_id=referrer.id,
        friend_card_id=friend.id,
        via=via,
        status="cancelled" if reason else "pending",
        reason=reason,
        created_at=now,
        settled_at=now if reason else None,
    )
    session.add(row)
    session.flush()
    if reason is None:
        pay_friend(session, program, friend, now)
    return row


def pay_friend(
    session: Session, program: Program, friend: Card, now: datetime
) -> ledger.Posted | None:
    """The friend's reward, once, for a referral not cancelled, once the friend's sign-up is
    confirmed (members.confirm calls this for a held one)."""
    table = program_config(program).referral
    customer = session.get(Customer, friend.customer_id)
    wanted = table is not None and (table.friend_reward or table.friend_discount_minor)
    if table is None or not wanted or customer is None:
        return None
    if customer.confirmed_at is None:
        return None
    row = session.execute(
        select(Referral).where(
            Referral.program_id == program.id,
            Referral.friend_card_id == friend.id,
            Referral.status != "cancelled",
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    if table.friend_discount_minor:  # locked: two confirmations at once fix one code
        locked_row = session.execute(
            select(Referral)
            .where(Referral.id == row.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
        _grant_code(locked_row, table.friend_discount_minor, table.friend_discount_days, now)
        return None
    key = f"referral:{row.id}:friend"
    locked = ledger.lock_card(session, friend.id)
    if ledger.find_entry_any(session, program.id, key) is not None:
        return None
    return _credit(session, program, locked, key, table.friend_reward, now)


def _grant_code(row: Referral, value_minor: int, days: int, now: datetime) -> None:
    """Fix the friend's discount code, once (the row is unique per friend); the scheduled jobs
    make it in the shop (shops/friend_codes.py), outside any transaction."""
    if row.friend_code is not None:
        return
    row.friend_code = FRIEND_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    row.friend_code_minor, row.friend_code_state = value_minor, "pending"
    row.friend_code_expires_at = now + timedelta(days=days)


def friend_code(
    session: Session, program: Program, card: Card, now: datetime
) -> dict[str, str] | None:
    """The card's welcome discount code as a referred friend, for its page: ``state``
    (pending: being made in the shop; live), ``code``, ``amount`` and ``until`` (the local
    date it expires); None when it has none, the shop refused it, or it has expired."""
    row = session.execute(
        select(Referral).where(
            Referral.program_id == program.id,  # uq_referrals_program_id_friend_card_id
            Referral.friend_card_id == card.id,
            Referral.friend_code_state.in_(("pending", "live")),
            Referral.friend_code_expires_at > now,
        )
    ).scalar_one_or_none()
    if row is None or row.friend_code is None or row.friend_code_minor is None:
        return None
    zone = ZoneInfo(program_rules(program).timezone)
    until = row.friend_code_expires_at
    return {
        "state": str(row.friend_code_state),
        "code": row.friend_code,
        "amount": f"{from_minor(row.friend_code_minor, program.currency)} {program.currency}",
        "until": until.astimezone(zone).date().isoformat() if until is not None else "",
    }


def _credit(
    session: Session, program: Program, card: Card, key: str, points: int, now: datetime
) -> ledger.Posted:
    rules = program_rules(program)
    available_at, expires_at = lot_dates(now, 0, rules.expiry, rules.timezone)
    return ledger.credit(
        session,
        card,
        kind="bonus",
        key=key,
        points=points,
        cause=key,
        now=now,
        available_at=available_at,
        expires_at=expires_at,
        max_points=rules.max_points_per_entry,
    )


def month_bounds(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The calendar month of ``now`` in the programme's time zone, as aware datetimes."""
    local = now.astimezone(ZoneInfo(timezone))
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def settle(session: Session, referral_id: int, now: datetime) -> str | None:
    """One pending referral at ``now``: "paid", "capped", "cancelled" (the friend's first
    order was refunded or cancelled inside the hold), or None (still waiting)."""
    row = session.get(Referral, referral_id)
    if row is None:
        return None
    referrer = ledger.lock_card(session, row.referrer_card_id)  # serialises the monthly cap
    session.refresh(row)
    program = session.get(Program, row.program_id)
    table = program_config(program).referral if program is not None else None
    if row.status != "pending" or program is None or table is None:
        return None
    order = session.execute(
        select(Order).where(Order.card_id == row.friend_card_id).order_by(Order.id).limit(1)
    ).scalar_one_or_none()
    if order is None:
        return None
    rules = program_rules(program)
    if order.status in VOIDED or not order.counted:
        row.status, row.settled_at = "cancelled", now
        row.reason = "the friend's first order was refunded or cancelled"
        return row.status
    if order.created_at + timedelta(days=rules.hold_days) > now:
        return None
    start, end = month_bounds(now, rules.timezone)
    paid = session.execute(
        select(func.count())
        .select_from(Referral)
        .where(
            Referral.referrer_card_id == referrer.id,
            Referral.status == "paid",
            Referral.settled_at >= start,
            Referral.settled_at < end,
        )
    ).scalar_one()
    row.settled_at = now
    if table.max_per_month is not None and paid >= table.max_per_month:
        row.status, row.reason = "capped", f"over max_per_month ({table.max_per_month})"
        return row.status
    row.status = "paid"
    _credit(session, program, referrer, f"referral:{row.id}:referrer", table.referrer_points, now)
    return row.status
