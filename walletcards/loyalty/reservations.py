"""Reservations of points for online redemption codes: reserve -> capture | release.

Every function takes a session and never commits; each write locks the card first. See
:mod:`walletcards.loyalty.redemption_models` for the ledger entries each transition writes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.redemption_models import Redemption


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
    raise NotImplementedError


def capture(
    session: Session, redemption: Redemption, *, order_ref: str | None, actor: str, now: datetime
) -> Redemption:
    """Turn a reservation into a spend (a ``redemption`` entry); idempotent. A released
    reservation cannot be captured (``RedemptionClosed``)."""
    raise NotImplementedError


def release(
    session: Session, redemption: Redemption, *, cause: str, actor: str, now: datetime
) -> Redemption:
    """Give the reserved points back, once, as lots expiring no later than those they came
    from; idempotent. ``cause``: "customer", "api", "expired", "shop_refused",
    "order_cancelled" or "order_refunded". A captured reservation cannot be released."""
    raise NotImplementedError


def find_by_code(session: Session, program: Program, code: str) -> Redemption | None:
    """The programme's redemption with this code, whatever its case."""
    raise NotImplementedError


def open_for_card(session: Session, card: Card) -> list[Redemption]:
    """The card's reservations still open (status "reserved"), soonest expiry first."""
    raise NotImplementedError


def due_to_expire(session: Session, now: datetime, limit: int) -> list[Redemption]:
    """Up to ``limit`` open reservations whose code expired by ``now``, oldest expiry first."""
    raise NotImplementedError
