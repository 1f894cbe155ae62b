"""`walletcards ledger verify`: recompute every balance from entries and lots, report mismatches.

Set-based SQL (one grouped query per check), so it stays usable on millions of entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from walletcards.loyalty.models import Card, LedgerEntry, Lot, LotDraw, Program


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
    return found
