"""Reservations following the orders that use their codes (called from the order intake's
domain, :mod:`walletcards.loyalty.awards` and :mod:`walletcards.loyalty.refunds`, in their
transaction): a paid order carrying a reservation's code captures it, once, with the order's
key as ``order_ref``; cancelling or wholly refunding that order releases the points back, once
(:func:`walletcards.loyalty.reservations.release` with cause "order_cancelled" or
"order_refunded": an ``uncapture`` entry).

A paid order is captured even when its code pays more than ``[redemption] max_share`` of it:
the shop accepted the code (and holds the share as the code's minimum purchase), so the
discount was given; leaving the points reserved would hand them back at expiry and let them
be spent twice. Such an order is logged (a warning) for the owner to look at.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.loyalty import reservations
from walletcards.loyalty.models import Program
from walletcards.loyalty.order_book import order_key
from walletcards.loyalty.programs import program_rules
from walletcards.loyalty.redemption_models import Redemption

ACTOR = "order"
MAX_ORDER_REF = 300  # redemptions.order_ref
log = logging.getLogger(__name__)
CAUSES = {"cancelled": "order_cancelled", "refunded": "order_refunded"}  # by Order.status


def _ref(source: str, external_id: str) -> str | None:
    """The order's key as the redemption records it; None past the column (a 250-character
    shop domain and a 200-character id: never a real pair, never captured)."""
    key = order_key(source, external_id)
    return key if len(key) <= MAX_ORDER_REF else None


def capture_codes(
    session: Session,
    program: Program,
    source: str,
    external_id: str,
    codes: Sequence[str],
    now: datetime,
    *,
    voided: bool = False,
    paid_minor: int | None = None,
) -> list[Redemption]:
    """Capture the programme's open reservations whose code the paid order carries (codes of no
    open reservation are the shop's own discounts: skipped). ``voided``: the order had been
    cancelled or wholly refunded before it was paid, so they are released instead.
    ``paid_minor`` (what the order came to, codes taken off) logs codes over ``max_share``."""
    ref = _ref(source, external_id)
    done = []
    for code in dict.fromkeys(code.strip().upper() for code in codes):
        found = reservations.find_by_code(session, program, code)
        if ref is None or found is None or found.status != "reserved":
            continue
        if voided:
            reservations.release(session, found, cause="order_cancelled", actor=ACTOR, now=now)
        else:
            reservations.capture(session, found, order_ref=ref, actor=ACTOR, now=now)
        done.append(found)
    if done and paid_minor is not None and not voided:
        _check_share(program, ref or "", done, paid_minor)
    return done


def _check_share(program: Program, ref: str, done: list[Redemption], paid_minor: int) -> None:
    """Warn when the codes paid more than ``max_share`` of the order (its subtotal before them
    estimated as what was paid plus their value)."""
    value = sum(found.value_minor for found in done)
    if program_rules(program).redemption.share_exceeded(value, paid_minor + value):
        log.warning(
            "order %s: points codes worth %s minor units paid more than max_share of it"
            " (captured: the shop accepted them)",
            ref,
            value,
        )


def order_reversed(
    session: Session,
    program: Program,
    source: str,
    external_id: str,
    status: str,
    now: datetime,
) -> list[Redemption]:
    """Give back the points of the reservations the order captured once its ``status`` is
    "cancelled" or "refunded" (in full; causes "order_cancelled", "order_refunded");
    idempotent. Any other status changes nothing."""
    ref = _ref(source, external_id)
    cause = CAUSES.get(status)
    if ref is None or cause is None:
        return []
    captured = session.execute(
        select(Redemption)
        .where(
            Redemption.program_id == program.id,
            Redemption.order_ref == ref,
            Redemption.status == "captured",
        )
        .order_by(Redemption.id)
    ).scalars()
    return [
        reservations.release(session, found, cause=cause, actor=ACTOR, now=now)
        for found in list(captured)
    ]
