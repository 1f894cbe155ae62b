"""`walletcards import customers FILE.csv --program SLUG`: bring an existing customer base across.

Header ``external_id,email,phone,name,birthday,points,note`` (``points`` = opening points), or
``discount_level`` instead of ``points`` with a mapping given on the command line (the case
study's shop moved promo-code discount levels to points). Every row is checked first; a row
above the programme's per-entry cap is refused with its row number (the "millionaires" bug);
malformed rows are reported and the good ones imported. One ledger entry per customer, keyed
``import:<slug>:<customer>``, so re-running the same file changes nothing. New customers are
written in bulk (COPY on PostgreSQL, multi-row inserts on SQLite, in chunks); imports send no card
emails or events (invite customers with `walletcards email resend` when ready).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.admin.bulk import write_rows
from walletcards.loyalty.cards import card_values, random_member_number
from walletcards.loyalty.entries import input_hash
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Lot, Program
from walletcards.loyalty.programs import program_rules

CHUNK = 1000
COLUMNS = ("external_id", "email", "phone", "name", "birthday", "note")
T = TypeVar("T")


@dataclass
class Row:
    number: int  # the line in the file (header = 1)
    key: str
    points: int
    values: dict[str, Any]


@dataclass
class Plan:
    rows: list[Row] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    already: int = 0

    @property
    def total(self) -> int:
        return sum(row.points for row in self.rows)

    def largest(self, n: int = 5) -> list[Row]:
        return sorted(self.rows, key=lambda row: row.points, reverse=True)[:n]


def chunks(items: list[T], size: int = CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def parse_mapping(text: str | None) -> dict[str, int]:
    """ "5=500,10=1000" -> {"5": 500, "10": 1000}."""
    mapping: dict[str, int] = {}
    for part in (text or "").split(","):
        if part.strip():
            level, _, points = part.partition("=")
            mapping[level.strip()] = int(points)
    return mapping


def read(path: Path, program: Program, mapping: dict[str, int]) -> Plan:
    plan = Plan()
    cap = program_rules(program).max_points_per_entry
    seen: set[str] = set()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        fields = set(reader.fieldnames or [])
        if "points" not in fields and "discount_level" not in fields:
            raise ValueError("the header needs a points or a discount_level column")
        if not {"external_id", "email"} & fields:
            raise ValueError("the header needs an external_id or an email column")
        for number, raw in enumerate(reader, start=2):
            problem, row = _row(number, raw, mapping, cap, program.slug)
            if problem:
                plan.rejected.append((number, problem))
            elif row is not None:
                if row.key in seen:
                    plan.rejected.append((number, "the same customer appears earlier in the file"))
                    continue
                seen.add(row.key)
                plan.rows.append(row)
    return plan


def _row(
    number: int, raw: dict[str, Any], mapping: dict[str, int], cap: int, slug: str
) -> tuple[str | None, Row | None]:
    if None in raw:
        return "more fields than the header", None
    values = {k: (raw.get(k) or "").strip() or None for k in COLUMNS}
    if values["email"]:
        values["email"] = values["email"].lower()
        if "@" not in values["email"]:
            return f"email {values['email']!r} is not an address", None
    identity = values["external_id"] or values["email"]
    if not identity:
        return "neither external_id nor email", None
    if values["birthday"]:
        try:
            values["birthday"] = date.fromisoformat(values["birthday"])
        except ValueError:
            return f"birthday {values['birthday']!r} is not YYYY-MM-DD", None
    if raw.get("points") not in (None, ""):
        text = str(raw["points"]).strip()
        if not text.isdigit():
            return f"points {text!r} is not a whole number", None
        points = int(text)
    else:
        level = str(raw.get("discount_level") or "").strip()
        if level not in mapping:
            return f"discount_level {level!r} has no mapping (--map)", None
        points = mapping[level]
    if points > cap:
        return f"{points} points is above the programme's limit of {cap} per entry", None
    kind = "ext" if values["external_id"] else "email"
    return None, Row(number, f"import:{slug}:{kind}:{identity}", points, values)


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
                    "name": r.values["name"],
                    "birthday": r.values["birthday"],
                    "locale": None,
                    "profile_at": now,
                    "created_at": now,
                }
                for r in part
            ],
        )
        numbers = _member_numbers(taken, len(part))
        cards = [
            card_values(program.id, cid, number, now, available=r.points, version=2)
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


def _existing_customers(session: Session, program: Program, rows: list[Row]) -> list[Row]:
    found: set[str] = set()
    for part in chunks(rows):
        ids = [r.values["external_id"] for r in part if r.values["external_id"]]
        emails = [r.values["email"] for r in part if not r.values["external_id"]]
        for column, values in ((Customer.external_id, ids), (Customer.email, emails)):
            if values:
                result = session.execute(
                    select(column).where(Customer.program_id == program.id, column.in_(values))
                ).scalars()
                found |= {value for value in result if value is not None}
    return [r for r in rows if (r.values["external_id"] or r.values["email"]) in found]


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
    for row in plan.largest():
        yield f"  largest: row {row.number}: {row.points} points ({row.key.split(':', 2)[2]})"
    for number, problem in plan.rejected[:50]:
        yield f"  rejected: row {number}: {problem}"
    if len(plan.rejected) > 50:
        yield f"  … and {len(plan.rejected) - 50} more rejected rows"
