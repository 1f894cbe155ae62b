"""Admin tests: the hand-computed dashboard fixture (rows from tests/admin/seed.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.admin.seed import NOW, at, entry, lot, order
from tests.kit.programs import MakeCard, MakeProgram
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program


@pytest.fixture
def seeded(
    database: Database, program: Program, make_program: MakeProgram, make_card: MakeCard
) -> dict[str, Card]:
    other = make_program(slug="other", name="Other shop")
    created = {
        "A": "2026-03-01T12:00:00",  # before the range
        "B": "2026-03-07T04:59:00",  # 23:59 on 6 March, New York: before the range
        "C": "2026-03-07T05:00:00",  # 00:00 on 7 March: day 1
        "D": "2026-03-09T04:30:00",  # 00:30 on 9 March (summer time): day 3, not day 2
        "E": "2026-03-10T04:00:00",  # 00:00 on 10 March: after the range
    }
    tiers = {"A": "gold", "B": "silver", "C": "gold", "D": None, "E": "bronze"}
    cards = {name: make_card(program, email=f"{name.lower()}@example.com") for name in created}
    stranger = make_card(other, email="x@example.com")
    with database.transaction() as session:
        for name, card in cards.items():
            row = session.get(Card, card.id)
            assert row is not None
            row.created_at, row.tier_code = at(created[name]), tiers[name]
            cards[name] = row
        outsider = session.get(Card, stranger.id)
        assert outsider is not None
        outsider.created_at = at("2026-03-08T12:00:00")
        a, b, c, d, e = (cards[name] for name in "ABCDE")
        entries = [
            entry(a, "earn", 100, "2026-03-07T12:00:00"),  # day 1 issued
            entry(c, "bonus", 300, "2026-03-07T13:00:00"),  # day 1 issued
            entry(a, "redeem", 50, "2026-03-08T15:00:00"),  # day 2 spent
            entry(a, "reversal", 20, "2026-03-08T16:00:00"),  # neither
            entry(a, "expiry", 10, "2026-03-08T17:00:00"),  # neither
            entry(d, "earn", 200, "2026-03-09T05:00:00"),  # day 3 issued
            entry(d, "redeem", 70, "2026-03-09T06:00:00"),  # day 3 spent
            entry(d, "restore", 10, "2026-03-09T07:00:00"),  # day 3: 10 of them given back
            entry(a, "earn", 1000, "2026-03-10T04:00:00"),  # after the range
            entry(b, "earn", 999, "2026-03-07T04:59:00"),  # before the range
            entry(outsider, "earn", 5000, "2026-03-08T12:00:00"),  # another programme
            entry(outsider, "redeem", 4000, "2026-03-08T13:00:00"),
        ]
        session.add_all(entries)
        first_order = order(d, 3000, "2026-03-09T05:00:00", "refunded", refunded=3000)
        session.add(first_order)
        session.flush()
        session.add_all(
            [
                order(a, 9000, "2026-03-02T12:00:00"),  # before the range
                order(a, 5000, "2026-03-07T12:00:00", repeat=True),  # day 1
                order(c, 2000, "2026-03-07T13:00:00"),  # day 1, first
                order(c, 7000, "2026-03-08T14:00:00", "cancelled", repeat=True),  # not counted
                order(c, 4000, "2026-03-09T12:00:00", repeat=True),  # day 3
                order(d, 1500, "2026-03-09T05:00:00", repeat=True),  # day 3
                order(b, 8000, "2026-03-01T12:00:00", "cancelled"),  # not an earlier order
                order(b, 1000, "2026-03-08T10:00:00"),  # day 2: the earlier one was cancelled
                order(e, 9900, "2026-03-10T05:00:00"),  # after the range
                order(outsider, 99000, "2026-03-08T12:00:00"),  # another programme
            ]
        )
        source = entries[0]
        session.add_all(
            [
                lot(a, 40, NOW + timedelta(days=1), source),  # expiring
                lot(a, 0, NOW + timedelta(days=2), source),  # spent already
                lot(c, 60, NOW + timedelta(days=30) - timedelta(seconds=1), source),  # expiring
                lot(c, 70, NOW + timedelta(days=30), source),  # just outside the window
                lot(d, 80, NOW - timedelta(hours=1), source),  # already past
                lot(d, 90, None, source),  # never expires
                lot(outsider, 500, NOW + timedelta(days=1), entries[10]),  # another programme
            ]
        )
    return cards
