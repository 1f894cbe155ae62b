"""RFM scoring as twelve cut points per programme, and a card's scores as an expression.

The daily job (:func:`score`) finds the quintile boundaries of the programme's cards with a
live order — the 20th, 40th, 60th and 80th percentiles (``percentile_disc``) of
``cards.last_order_at`` (recency), ``orders_count`` (frequency) and ``spend_minor`` (monetary),
kept on the card by loyalty/order_facts.py — and stores them in ``rfm_cuts``; no row per card
is written. On PostgreSQL a large table is sampled (``TABLESAMPLE SYSTEM``, about
:data:`SAMPLE_ROWS` cards); SQLite reads the values in order.

A card's score for a value v is ``1 + below + equal // 2`` where ``below`` counts the cut points
under v and ``equal`` those equal to it: a value on one cut point takes the lower score, and a
crowd of equal values spanning several cut points (the many one-order customers, a lone card)
takes the middle of the scores it spans, as the mid-rank did before. Scores are read off the
cuts whenever asked (members, sizes, the dashboard's grid), with each card's current facts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.segment_models import RfmCuts

SAMPLE_ROWS = 50_000  # cards the cut points are taken from on a large table (PostgreSQL)
MIN_SAMPLE = 10_000  # fewer of the programme's cards in the sample: computed exactly instead
QUANTILES = (0.2, 0.4, 0.6, 0.8)
# (facts column, cut point columns, the smallest step of the column's values)
FACTS = (
    ("last_order_at", ("r1", "r2", "r3", "r4"), timedelta(microseconds=1), "timestamptz"),
    ("orders_count", ("f1", "f2", "f3", "f4"), 1, "bigint"),
    ("spend_minor", ("m1", "m2", "m3", "m4"), 1, "bigint"),
)


def _case_score(column: str, thresholds: Sequence[str]) -> str:
    """Portable: the score of ``column`` less one (0 to 4): how many of the four stored
    thresholds are at or under it."""
    return (
        "(" + " + ".join(f"CASE WHEN {column} >= {t} THEN 1 ELSE 0 END" for t in thresholds) + ")"
    )


def _bucket_score(column: str, name: str, kind: str) -> str:
    """PostgreSQL: the same (score less one) from one binary search over the bound thresholds
    (``width_bucket`` counts the thresholds <= its value)."""
    return f"width_bucket({column}, CAST(:{name} AS {kind}[]))"


def thresholds(cuts: Sequence[Any], step: Any) -> list[Any]:
    """The least value scoring 2, 3, 4 and 5 against four cut points (``1 + below + equal //
    2``): the score only changes at a cut point or one step above it, so a card's score is
    ``1 +`` the number of thresholds at or under its value."""

    def score(value: Any) -> int:
        below = sum(1 for cut in cuts if cut < value)
        return 1 + below + sum(1 for cut in cuts if cut == value) // 2

    candidates = sorted({*cuts, *(cut + step for cut in cuts)})
    return [next(v for v in candidates if score(v) >= wanted) for wanted in (2, 3, 4, 5)]


def _joined() -> tuple[str, ...]:
    return tuple(
        _case_score(f"cards.{col}", [f"rfm_cuts.{c}" for c in cuts]) for col, cuts, *_ in FACTS
    )


def cell_sql() -> str:
    """``recency * 10 + FM`` of a card (``cards`` joined with its ``rfm_cuts``), both dialects;
    FM is the average of frequency and monetary rounded half up."""
    r, f, m = (f"(1 + {b})" for b in _joined())
    return f"({r} * 10 + ({f} + {m} + 1) / 2)"


def triple_sql() -> str:
    """``recency * 100 + frequency * 10 + monetary`` of a card, like :func:`cell_sql`."""
    r, f, m = (f"(1 + {b})" for b in _joined())
    return f"({r} * 100 + {f} * 10 + {m})"


_ERASED = "JOIN customers ON customers.id = cards.customer_id AND customers.erased_at IS NOT NULL"


def counts(session: Session, program: Program) -> tuple[int, dict[tuple[int, int, int], int]]:
    """How many of the programme's cards there are (an erased customer's excluded), and how
    many have each (recency, frequency, monetary) as last scored: one pass over all of the
    programme's cards, less the few of erased customers (a join from the partial index
    ``ix_customers_erased``, so the pass itself joins nothing)."""
    cuts = session.get(RfmCuts, program.id)
    params: dict[str, Any] = {"p": program.id}
    if cuts is not None and session.get_bind().dialect.name == "postgresql":
        for col, names, *_ in FACTS:
            params[col] = [getattr(cuts, name) for name in names]
    total, found = 0, dict[tuple[int, int, int], int]()
    for sign, erased in ((1, ""), (-1, _ERASED)):
        for k, count in session.execute(text(_histogram(session, cuts, erased)), params).tuples():
            total += sign * int(count)
            if k is not None and int(k) >= 0:
                cell = (int(k) // 25 + 1, int(k) // 5 % 5 + 1, int(k) % 5 + 1)
                found[cell] = found.get(cell, 0) + sign * int(count)
    return total, {cell: count for cell, count in found.items() if count}


def _histogram(session: Session, cuts: RfmCuts | None, join: str) -> str:
    """``SELECT k, count(*) … GROUP BY k`` over the programme's cards (``join``ed), ``k`` one
    small integer per card: ``(r - 1) * 25 + (f - 1) * 5 + (m - 1)``, NULL without a live order
    (or before any scoring)."""
    if cuts is None:
        return (
            "SELECT NULL AS k, count(*) FROM cards "  # noqa: S608 (constants)
            f"{join} WHERE cards.program_id = :p"
        )
    if session.get_bind().dialect.name != "postgresql":
        r, f, m = _joined()
        key = f"CASE WHEN cards.last_order_at IS NULL THEN NULL ELSE {r} * 25 + {f} * 5 + {m} END"
        return (
            f"SELECT {key} AS k, count(*) FROM cards {join} "  # noqa: S608 (constants)
            "JOIN rfm_cuts ON rfm_cuts.program_id = cards.program_id "
            "WHERE cards.program_id = :p GROUP BY 1"
        )
    # width_bucket is strict: a card without an order (last_order_at NULL) has a NULL key.
    r, f, m = (_bucket_score(f"cards.{col}", col, kind) for col, _, _, kind in FACTS)
    # The key comes out of a UNION ALL with a branch that reads nothing (planned away): the
    # planner has no statistics for a set operation's output, so it assumes 200 groups (not
    # one per card, as it would from the card columns inside the key) and plans a partial
    # aggregate in each parallel worker (a hash table of at most 126 keys each) instead of a
    # single-process pass. (``unnest(ARRAY[key])`` does the same through a ProjectSet node,
    # about a third slower; BENCHMARKS.md "Segments".)
    key = f"{r} * 25 + {f} * 5 + {m}"
    return (
        f"SELECT k, count(*) FROM (SELECT {key} AS k FROM cards {join} "  # noqa: S608
        f"WHERE cards.program_id = :p UNION ALL SELECT {key} FROM cards WHERE false) AS scored "
        "GROUP BY k"
    )


def _exact_in_python(session: Session, program: Program) -> tuple[int, list[list[Any]]]:
    values = []
    for col, *_ in FACTS:
        column = getattr(Card, col)
        ordered = list(
            session.scalars(
                select(column)
                .where(Card.program_id == program.id, Card.last_order_at.is_not(None))
                .order_by(column)
            )
        )
        if not ordered:
            return 0, [[], [], []]
        values.append([ordered[max(math.ceil(q * len(ordered)) - 1, 0)] for q in QUANTILES])
    return len(ordered), values


def _percentiles(session: Session, program: Program, sample: str) -> tuple[int, list[list[Any]]]:
    wanted = ", ".join(
        f"percentile_disc(ARRAY[{', '.join(map(str, QUANTILES))}]) WITHIN GROUP (ORDER BY {col})"
        for col, *_ in FACTS
    )
    row = session.execute(
        text(
            f"SELECT count(*), {wanted} FROM cards {sample} "  # noqa: S608 (constants only)
            "WHERE program_id = :p AND last_order_at IS NOT NULL"
        ),
        {"p": program.id},
    ).one()
    return int(row[0]), [list(v) if v is not None else [] for v in row[1:]]


def _cut_points(session: Session, program: Program) -> tuple[int, int, list[list[Any]]]:
    """(cards with a live order, how many the cuts came from, the three lists of four cuts)."""
    if session.get_bind().dialect.name != "postgresql":
        n, values = _exact_in_python(session, program)
        return n, n, values
    rows = float(
        session.scalar(text("SELECT reltuples FROM pg_class WHERE oid = 'cards'::regclass")) or 0
    )
    if rows > 4 * SAMPLE_ROWS:
        percent = 100.0 * SAMPLE_ROWS / rows
        sampled, values = _percentiles(session, program, f"TABLESAMPLE SYSTEM ({percent:.6f})")
        if sampled >= MIN_SAMPLE:
            return round(sampled * 100.0 / percent), sampled, values
    n, values = _percentiles(session, program, "")
    return n, n, values


def score(session: Session, program: Program, now: datetime) -> int:
    """Store the programme's cut points (none when no card has a live order); returns how many
    cards have a live order (estimated from the sample when sampled)."""
    scored, sampled, values = _cut_points(session, program)
    cuts = session.get(RfmCuts, program.id)
    if scored == 0 or not all(values):
        if cuts is not None:
            session.delete(cuts)
        return 0
    if cuts is None:
        cuts = RfmCuts(program_id=program.id)
        session.add(cuts)
    cuts.scored_at, cuts.scored, cuts.sampled = now, scored, sampled
    for (_, names, step, _), points in zip(FACTS, values, strict=True):
        for name, point in zip(names, thresholds(points, step), strict=True):
            setattr(cuts, name, point)
    session.flush()
    return scored
