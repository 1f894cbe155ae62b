"""`walletcards import customers FILE.csv --program SLUG`: bring an existing customer base across.

The CSV is read and checked by ``import_rows.py`` (header, ``--source``/``--shop`` naming the
shop the customer ids come from, ``--map`` and ``--map-tier`` for the case study's promo
discount levels). A row above the programme's per-entry cap is refused with its row number (the
"millionaires" bug); malformed rows are reported and the good ones imported. One ledger entry
per customer, keyed ``import:<slug>:<customer>``, so re-running the same file changes nothing.
New customers are written in bulk (COPY on PostgreSQL, multi-row inserts on SQLite, in chunks);
imports send no card emails or events (invite customers with `walletcards email resend`).

An imported tier is the card's tier and its *floor* (``cards.tier_floor``): orders can raise
the card above it, refunds never take it below, for good in a lifetime programme; in a
re-qualifying programme until the first review (one period after the import), in a
``window_spend`` programme for one window, after which the history decides as for any card.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.admin.bulk import write_rows
from walletcards.admin.import_rows import Plan, Row
from walletcards.loyalty.cards import card_values, random_member_number
from walletcards.loyalty.config_rules import ProgramRules
from walletcards.loyalty.entries import input_hash
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Lot, Program
from walletcards.loyalty.programs import program_rules

CHUNK = 1000
T = TypeVar("T")


def chunks(items: list[T], size: int = CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def floor_until(rules: ProgramRules, now: datetime) -> datetime | None:
    """Until when an imported tier holds: one tier window after the import (calendar months in
    the programme's time zone, as loyalty/periods.py counts them), for good without a window."""
    window = rules.tiers.window if rules.tiers else None
    return window.after(now, rules.timezone) if window else None


def skip_imported(session: Session, program: Program, plan: Plan) -> None:
    """Rows whose entry exists are done (same points) or a conflict (other points)."""
    done: dict[str, int] = {}
    for part in chunks([row.key for row in plan.rows]):
        for key, points in session.execute(
            select(LedgerEntry.idempotency_key, LedgerEntry.points).where(
                LedgerEntry.program_id == program.id, LedgerEntry.idempotency_key.in_(part)
            )
        ):
            done[key] = points
    remaining = []
    for row in plan.rows:
        if row.key not in done:
            remaining.append(row)
        elif done[row.key] == row.points:
            plan.already += 1
        else:
            plan.rejected.append((row.number, f"already imported with {done[row.key]} points"))
    plan.rows = remaining


def apply(
    session: Session,
    program: Program,
    plan: Plan,
    now: datetime,
    progress: Callable[[int], None] = lambda _: None,
) -> int:
    """Write the plan: one customer, card, entry and lot per row; returns rows written."""
    rules = program_rules(program)
    expires_at = rules.expiry.after(now, rules.timezone) if rules.expiry else None
    held_until = floor_until(rules, now)
    existing = _existing_customers(session, program, plan.rows)
    if existing:
        raise ValueError(
            f"{len(existing)} customer(s) already exist (e.g. row {existing[0].number}); "
            "importing opening points for existing customers is not supported: remove them"
        )
    written = 0
    taken = set(
        session.execute(select(Card.member_number).where(Card.program_id == program.id)).scalars()
    )
    for part in chunks(plan.rows):
        customer_ids = write_rows(
            session,
            Customer,
            [
                {
                    "program_id": program.id,
                    "external_id": r.values["external_id"],
                    "email": r.values["email"],
                    "phone": r.values["phone"],
                    "phone_key": r.values["phone_key"],
                    "name": r.values["name"],
                    "birthday": r.values["birthday"],
                    "locale": r.values["locale"],
                    "profile_at": now,
                    "created_at": now,
                    "joined_via": "import",
                    "confirmed_at": now,
                }
                for r in part
            ],
        )
        numbers = _member_numbers(taken, len(part))
        cards = [
            {
                **card_values(program.id, cid, number, now, available=r.points, version=2),
                "tier_code": r.tier,
                "tier_since": now if r.tier else None,
                "tier_floor": r.tier,
                "tier_floor_until": held_until if r.tier else None,
                # a windowed tier's first review (sync/jobs.py) is when the floor ends
                "tier_review_at": held_until if r.tier else None,
            }
            for r, cid, number in zip(part, customer_ids, numbers, strict=True)
        ]
        card_ids = write_rows(session, Card, cards)
        # Every row gets its entry (0 points too): the entry's key is what makes re-runs no-ops.
        rows_cards = list(zip(part, card_ids, strict=True))
        entry_ids = write_rows(
            session,
            LedgerEntry,
            [
                {
                    "program_id": program.id,
                    "card_id": card_id,
                    "kind": "bonus",
                    "points": r.points,
                    "available_delta": r.points,
                    "pending_delta": 0,
                    "debt_delta": 0,
                    "idempotency_key": r.key,
                    "cause": f"import:{(r.values['note'] or 'opening balance')[:200]}",
                    "input_hash": input_hash({"op": "import", "key": r.key, "points": r.points}),
                    "order_id": None,
                    "actor": "import",
                    "memo": r.values["note"],
                    "created_at": now,
                }
                for r, card_id in rows_cards
            ],
        )
        credited = [(rc, e) for rc, e in zip(rows_cards, entry_ids, strict=True) if rc[0].points]
        if credited:
            write_rows(
                session,
                Lot,
                [
                    {
                        "program_id": program.id,
                        "card_id": card_id,
                        "entry_id": entry_id,
                        "order_id": None,
                        "points": r.points,
                        "remaining": r.points,
                        "released": True,
                        "available_at": now,
                        "expires_at": expires_at,
                        "expiry_warned_at": None,
                    }
                    for (r, card_id), entry_id in credited
                ],
            )
        written += len(part)
        progress(len(part))
    return written


def _identity(row: Row) -> tuple[str, str]:
    """(kind, value) that names the row's customer: ext, email or phone (its import key's)."""
    _, _, kind, value = row.key.split(":", 3)
    return kind, value


def _existing_customers(session: Session, program: Program, rows: list[Row]) -> list[Row]:
    """Rows naming a customer the programme has already (by the identity their key uses)."""
    columns = {"ext": Customer.external_id, "email": Customer.email, "phone": Customer.phone_key}
    found: set[tuple[str, str]] = set()
    for part in chunks(rows):
        for kind, column in columns.items():
            values = [value for k, value in map(_identity, part) if k == kind]
            if values:
                result = session.execute(
                    select(column).where(Customer.program_id == program.id, column.in_(values))
                ).scalars()
                found |= {(kind, value) for value in result if value is not None}
    return [r for r in rows if _identity(r) in found]


def _member_numbers(taken: set[str], count: int) -> list[str]:
    """``count`` fresh Luhn-checked member numbers not in ``taken`` (which grows with them):
    one query for the programme's numbers up front, not one per chunk (a large import met
    ~5 birthday collisions per 100,000 random numbers, so the check is needed)."""
    numbers: list[str] = []
    while len(numbers) < count:
        number = random_member_number()
        if number not in taken:
            taken.add(number)
            numbers.append(number)
    return numbers


def summary_lines(plan: Plan) -> Iterable[str]:
    yield (
        f"{len(plan.rows)} to import ({plan.total} points), {plan.already} already imported, "
        f"{len(plan.rejected)} rejected"
    )
    tiers = Counter(row.tier for row in plan.rows if row.tier)
    if tiers:
        yield "  tiers: " + ", ".join(f"{code} {n}" for code, n in sorted(tiers.items()))
    for row in plan.largest():
        yield f"  largest: row {row.number}: {row.points} points ({row.key.split(':', 2)[2]})"
    for number, problem in plan.rejected[:50]:
        yield f"  rejected: row {number}: {problem}"
    if len(plan.rejected) > 50:
        yield f"  … and {len(plan.rejected) - 50} more rejected rows"
