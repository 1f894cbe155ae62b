"""`walletcards ledger verify`: recompute every balance from entries and lots, report mismatches.

Set-based SQL (one grouped query per check), so it stays usable on millions of entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from walletcards.loyalty import order_facts
from walletcards.loyalty.models import Card, LedgerEntry, Lot, LotDraw, Program
from walletcards.loyalty.redemption_models import Redemption


@dataclass(frozen=True)
class Mismatch:
    card_id: int
    check: str
    detail: str


S = TypeVar("S", bound=Select[Any])


def _scoped(query: S, program_id: int | None) -> S:
    return query if program_id is None else query.where(Card.program_id == program_id)


def verify(session: Session, program_slug: str | None = None) -> list[Mismatch]:
    program_id = None
    if program_slug is not None:
        program_id = session.execute(
            select(Program.id).where(Program.slug == program_slug)
        ).scalar_one()
    found: list[Mismatch] = []

    sums = (
        select(
            LedgerEntry.card_id.label("card_id"),
            func.sum(LedgerEntry.available_delta).label("a"),
            func.sum(LedgerEntry.pending_delta).label("p"),
            func.sum(LedgerEntry.debt_delta).label("d"),
        )
        .group_by(LedgerEntry.card_id)
        .subquery()
    )
    rows = session.execute(
        _scoped(
            select(
                Card.id,
                Card.available,
                Card.pending,
                Card.debt,
                func.coalesce(sums.c.a, 0),
                func.coalesce(sums.c.p, 0),
                func.coalesce(sums.c.d, 0),
            )
            .outerjoin(sums, sums.c.card_id == Card.id)
            .where(
                or_(
                    Card.available != func.coalesce(sums.c.a, 0),
                    Card.pending != func.coalesce(sums.c.p, 0),
                    Card.debt != func.coalesce(sums.c.d, 0),
                )
            ),
            program_id,
        )
    ).all()
    for card_id, a, p, d, ea, ep, ed in rows:
        found.append(
            Mismatch(
                card_id,
                "entries",
                f"card says {a}/{p}/{d} (available/pending/debt), entries sum to {ea}/{ep}/{ed}",
            )
        )

    lots = (
        select(
            Lot.card_id.label("card_id"),
            func.sum(case((Lot.released.is_(True), Lot.remaining), else_=0)).label("a"),
            func.sum(case((Lot.released.is_(False), Lot.remaining), else_=0)).label("p"),
        )
        .group_by(Lot.card_id)
        .subquery()
    )
    rows = session.execute(
        _scoped(
            select(
                Card.id,
                Card.available,
                Card.pending,
                func.coalesce(lots.c.a, 0),
                func.coalesce(lots.c.p, 0),
            )
            .outerjoin(lots, lots.c.card_id == Card.id)
            .where(
                or_(
                    Card.available != func.coalesce(lots.c.a, 0),
                    Card.pending != func.coalesce(lots.c.p, 0),
                )
            ),
            program_id,
        )
    ).all()
    for card_id, a, p, la, lp in rows:
        found.append(
            Mismatch(card_id, "lots", f"card says {a}/{p} (available/pending), lots hold {la}/{lp}")
        )

    draws = (
        select(LotDraw.lot_id, func.sum(LotDraw.points).label("drawn"))
        .group_by(LotDraw.lot_id)
        .subquery()
    )
    rows = session.execute(
        _scoped(
            select(Lot.card_id, Lot.id, Lot.points, Lot.remaining, func.coalesce(draws.c.drawn, 0))
            .join(Card, Card.id == Lot.card_id)
            .outerjoin(draws, draws.c.lot_id == Lot.id)
            .where(Lot.remaining != Lot.points - func.coalesce(draws.c.drawn, 0)),
            program_id,
        )
    ).all()
    for card_id, lot_id, points, remaining, drawn in rows:
        found.append(
            Mismatch(
                card_id,
                "draws",
                f"lot {lot_id}: {points} credited, {drawn} drawn, but {remaining} remaining",
            )
        )

    rows = session.execute(
        _scoped(
            select(Card.id, Card.available, Card.pending, Card.debt).where(
                or_(
                    Card.available < 0,
                    Card.pending < 0,
                    Card.debt < 0,
                    and_(Card.debt > 0, Card.available + Card.pending > 0),
                )
            ),
            program_id,
        )
    ).all()
    for card_id, a, p, d in rows:
        found.append(
            Mismatch(
                card_id,
                "sign",
                f"available {a}, pending {p}, debt {d}: negative, or debt "
                "left standing beside points",
            )
        )
    facts = [  # the RFM facts kept on the card (loyalty/order_facts.py)
        Mismatch(card_id, "order_facts", "last order, order count or spend differs from orders")
        for card_id in session.scalars(order_facts.mismatched(program_id))
    ]
    return found + verify_reservations(session, program_id) + facts


def verify_reservations(session: Session, program_id: int | None) -> list[Mismatch]:
    """Reservations against the ledger: each redemption's entries match its points and status
    (its ``reserve`` entry drew exactly its points; a release after a capture is an
    ``uncapture``), and per card the points reserved by entries (reserve - capture - unreserve)
    are the points of its open reservations."""
    found: list[Mismatch] = []
    draws = (
        select(LotDraw.entry_id, func.sum(LotDraw.points).label("drawn"))
        .group_by(LotDraw.entry_id)
        .subquery()
    )
    reserve = aliased(LedgerEntry)
    captured = aliased(LedgerEntry)
    released = aliased(LedgerEntry)
    status_ok = or_(
        and_(
            Redemption.status == "reserved",
            Redemption.capture_entry_id.is_(None),
            Redemption.release_entry_id.is_(None),
        ),
        and_(
            Redemption.status == "captured",
            func.coalesce(captured.points, -1) == Redemption.points,
            Redemption.release_entry_id.is_(None),
        ),
        and_(
            Redemption.status == "released",
            func.coalesce(released.points, -1) == Redemption.points,
            or_(
                and_(Redemption.capture_entry_id.is_(None), released.kind == "unreserve"),
                and_(  # captured, then its order cancelled or refunded: the spend given back
                    func.coalesce(captured.points, -1) == Redemption.points,
                    released.kind == "uncapture",
                ),
            ),
        ),
    )
    rows = session.execute(
        _scoped(
            select(Redemption.card_id, Redemption.id, Redemption.points, Redemption.status)
            .join(Card, Card.id == Redemption.card_id)
            .join(reserve, reserve.id == Redemption.reserve_entry_id)
            .outerjoin(draws, draws.c.entry_id == reserve.id)
            .outerjoin(captured, captured.id == Redemption.capture_entry_id)
            .outerjoin(released, released.id == Redemption.release_entry_id)
            .where(
                or_(
                    reserve.points != Redemption.points,
                    reserve.available_delta != -Redemption.points,
                    func.coalesce(draws.c.drawn, 0) != Redemption.points,
                    ~status_ok,
                )
            ),
            program_id,
        )
    ).all()
    for card_id, redemption_id, points, status in rows:
        found.append(
            Mismatch(
                card_id,
                "reservation",
                f"redemption {redemption_id} ({points} points, {status}) disagrees with its "
                "entries or draws",
            )
        )
    signed = case(
        (LedgerEntry.kind == "reserve", LedgerEntry.points),
        (LedgerEntry.kind.in_(("redemption", "unreserve")), -LedgerEntry.points),
        else_=0,
    )
    by_entries = (
        select(LedgerEntry.card_id.label("card_id"), func.sum(signed).label("held"))
        .where(LedgerEntry.kind.in_(("reserve", "redemption", "unreserve")))
        .group_by(LedgerEntry.card_id)
        .subquery()
    )
    open_points = (
        select(Redemption.card_id.label("card_id"), func.sum(Redemption.points).label("held"))
        .where(Redemption.status == "reserved")
        .group_by(Redemption.card_id)
        .subquery()
    )
    held = func.coalesce(by_entries.c.held, 0)
    reserved = func.coalesce(open_points.c.held, 0)
    rows = session.execute(
        _scoped(
            select(Card.id, held, reserved)
            .outerjoin(by_entries, by_entries.c.card_id == Card.id)
            .outerjoin(open_points, open_points.c.card_id == Card.id)
            .where(held != reserved),
            program_id,
        )
    ).all()
    for card_id, by_ledger, open_sum in rows:
        found.append(
            Mismatch(
                card_id,
                "reserved",
                f"entries hold {by_ledger} points reserved, open reservations {open_sum}",
            )
        )
    return found
