"""Reservations of points for online redemption codes: reserve -> capture | release.

A two-phase transfer on the ledger (every entry goes through ``apply_entry``: the card is
pushed and the outbox's ``points.changed`` written as for any entry):

- ``reserve`` posts a ``reserve`` entry that draws the points from the card's spendable lots,
  soonest expiry first (the lot draws are its bookkeeping), so they are neither available nor
  spendable twice, and never more than the card has;
- ``capture`` posts a ``redemption`` entry, the spend the card shows; it moves no balance (the
  points were drawn at reserve);
- ``release`` posts an ``unreserve`` entry giving the drawn points back as new lots, one per
  draw, expiring exactly when the lots they came from do (points whose lot expired meanwhile
  expire at once). Debt standing by then is netted first, as for any credit. A captured
  reservation is released only when its order is cancelled or wholly refunded: an
  ``uncapture`` entry gives the spent points back the same way.

Every function takes a session and never commits; each write locks the card first, so every
writer of one card, reservations included, queues on that row.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.loyalty.entries import (
    IdempotencyConflict,
    InsufficientPoints,
    LedgerError,
    LimitExceeded,
    apply_entry,
    input_hash,
    lock_card,
    new_entry,
)
from walletcards.loyalty.lots import draw, open_lots, plan_draw, settle_time
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import program_rules
from walletcards.loyalty.redemption_models import CHANNELS, RELEASE_CAUSES, Redemption
from walletcards.loyalty.reservation_lots import give_back
from walletcards.money import from_minor, points_value_minor

# unambiguous when read aloud or typed: no 0/O, 1/I/L
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
MAX_CODE = 64
ORDER_CAUSES = ("order_cancelled", "order_refunded")  # may release a captured redemption


class RedemptionClosed(LedgerError):
    """A captured reservation cannot be released, nor a released one captured."""

    code = "redemption_closed"
    status = 409


class ShareExceeded(LedgerError):
    """The code would pay more of the order than ``[redemption] max_share`` allows."""

    code = "share_exceeded"
    status = 409


class RedemptionUnavailable(LedgerError):
    """The programme cannot reserve points: no ``[redemption] point_value``."""

    code = "redemption_not_configured"
    status = 422


def reserve(
    session: Session,
    program: Program,
    card: Card,
    points: int,
    *,
    channel: str,
    reference: str | None,
    actor: str,
    key: str,
    now: datetime,
) -> Redemption:
    """Reserve ``points`` of the card's available points for a new code (status "reserved").

    Drawn from lots soonest-expiry first, so they are neither available nor spendable twice.
    Idempotent on ``key`` (same inputs: the same redemption; others: ``IdempotencyConflict``).
    Raises ledger errors (``InsufficientPoints``, ``LimitExceeded``, …) for too few points or
    the programme's ``[redemption]`` rules."""
    if channel not in CHANNELS:
        raise LimitExceeded(f"channel must be one of {', '.join(CHANNELS)}")
    digest = input_hash(
        {"op": "reserve", "card": card.id, "points": points, "channel": channel, "ref": reference}
    )
    card = lock_card(session, card.id)
    existing = session.execute(
        select(Redemption).where(
            Redemption.program_id == program.id, Redemption.idempotency_key == key
        )
    ).scalar_one_or_none()
    if existing is not None:
        if existing.input_hash != digest:
            raise IdempotencyConflict(f"key {key!r} was already used with different inputs")
        return existing
    rules = program_rules(program)
    if rules.point_value is None:
        raise RedemptionUnavailable("the programme gives points no money value (point_value)")
    refusal = rules.redemption.refusal(points)
    if refusal is not None:
        raise LimitExceeded(refusal)
    settle_time(session, card, now)
    if points > card.available:
        raise InsufficientPoints(f"only {card.available} points are available, not {points}")
    plan = plan_draw(open_lots(session, card.id, released_only=True, now=now), points)
    if sum(take for _, take in plan) != points:  # never overdraw, whatever the card row says
        raise InsufficientPoints(f"fewer than {points} points can be drawn")
    cause = f"reservation:{channel}" + (f":{reference}" if reference else "")
    entry = new_entry(
        card,
        kind="reserve",
        points=points,
        key=f"reserve:{key}",
        inputs_hash=digest,
        cause=cause,
        now=now,
        actor=actor,
    )
    session.add(entry)
    draw(session, entry, plan)
    apply_entry(session, card, entry, now)
    session.flush()
    redemption = Redemption(
        program_id=program.id,
        card_id=card.id,
        points=points,
        value_minor=points_value_minor(points, rules.point_value, program.currency),
        status="reserved",
        channel=channel,
        reference=reference,
        code=_new_code(session, program, rules.redemption.code_prefix),
        shop_state="pending" if channel in ("shopify", "woocommerce") else "none",
        expires_at=now + timedelta(days=rules.redemption.code_days),
        idempotency_key=key,
        input_hash=digest,
        reserve_entry_id=entry.id,
        created_at=now,
    )
    session.add(redemption)
    session.flush()
    return redemption


def _new_code(session: Session, program: Program, prefix: str) -> str:
    """``prefix`` + random unambiguous characters, not used yet in the programme (the unique
    constraint guards the race)."""
    while True:
        code = prefix + "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if find_by_code(session, program, code) is None:
            return code


def _locked(session: Session, redemption: Redemption) -> Card:
    """Lock the redemption's card, then read the redemption again under that lock."""
    card = lock_card(session, redemption.card_id)
    session.refresh(redemption)
    return card


def capture(
    session: Session,
    redemption: Redemption,
    *,
    order_ref: str | None,
    actor: str,
    now: datetime,
    order_minor: int | None = None,
) -> Redemption:
    """Turn a reservation into a spend (a ``redemption`` entry); idempotent. A released
    reservation cannot be captured (``RedemptionClosed``). ``order_minor``, the order's
    subtotal before the code, is checked against ``[redemption] max_share``
    (``ShareExceeded``: nothing written, the reservation stays open)."""
    card = _locked(session, redemption)
    if redemption.status == "captured":
        return redemption
    if redemption.status == "released":
        raise RedemptionClosed(f"redemption {redemption.id} was released")
    if order_minor is not None:
        program = session.get(Program, redemption.program_id)
        assert program is not None
        rules = program_rules(program).redemption
        least = rules.minimum_order_minor(redemption.value_minor)
        if least is not None and order_minor < least:
            raise ShareExceeded(
                f"the code pays at most {rules.max_share} % of an order: this one needs an"
                f" order of at least {from_minor(least, program.currency)} {program.currency}"
                " before the code"
            )
    entry = new_entry(
        card,
        kind="redemption",
        points=redemption.points,
        key=f"redemption:{redemption.id}:capture",
        inputs_hash=input_hash({"op": "capture", "redemption": redemption.id}),
        cause=f"capture:{order_ref}" if order_ref else "capture",
        now=now,
        actor=actor,
    )
    session.add(entry)
    apply_entry(session, card, entry, now)
    session.flush()
    redemption.status = "captured"
    redemption.capture_entry_id = entry.id
    redemption.captured_at = now
    redemption.order_ref = order_ref
    session.flush()
    return redemption


def release(
    session: Session, redemption: Redemption, *, cause: str, actor: str, now: datetime
) -> Redemption:
    """Give the reserved points back, once, as lots expiring no later than those they came
    from; idempotent. ``cause``: "customer", "api", "expired", "shop_refused",
    "order_cancelled" or "order_refunded". A captured reservation is released only by its
    order's cancellation or full refund (an ``uncapture`` entry gives the spent points back)."""
    if cause not in RELEASE_CAUSES:
        raise LimitExceeded(f"cause must be one of {', '.join(RELEASE_CAUSES)}")
    card = _locked(session, redemption)
    if redemption.status == "released":
        return redemption
    if redemption.status == "captured" and cause not in ORDER_CAUSES:
        raise RedemptionClosed(f"redemption {redemption.id} was captured")
    kind = "uncapture" if redemption.status == "captured" else "unreserve"
    entry = give_back(session, card, redemption, kind=kind, cause=cause, actor=actor, now=now)
    settle_time(session, card, now)  # points whose lot expired meanwhile expire now
    redemption.status = "released"
    redemption.release_entry_id = entry.id
    redemption.released_at = now
    redemption.released_cause = cause
    session.flush()
    return redemption


def find_by_code(session: Session, program: Program, code: str) -> Redemption | None:
    """The programme's redemption with this code, whatever its case."""
    wanted = code.strip().upper()
    if not wanted or len(wanted) > MAX_CODE:
        return None
    return session.execute(
        select(Redemption).where(Redemption.program_id == program.id, Redemption.code == wanted)
    ).scalar_one_or_none()


def open_for_card(session: Session, card: Card) -> list[Redemption]:
    """The card's reservations still open (status "reserved"), soonest expiry first."""
    return list(
        session.execute(
            select(Redemption)
            .where(Redemption.card_id == card.id, Redemption.status == "reserved")
            .order_by(Redemption.expires_at, Redemption.id)
        ).scalars()
    )


def due_to_expire(session: Session, now: datetime, limit: int) -> list[Redemption]:
    """Up to ``limit`` open reservations whose code expired by ``now``, oldest expiry first."""
    return list(
        session.execute(
            select(Redemption)
            .where(Redemption.status == "reserved", Redemption.expires_at <= now)
            .order_by(Redemption.expires_at, Redemption.id)
            .limit(limit)
        ).scalars()
    )
