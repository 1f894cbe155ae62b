"""Campaigns for a segment: only the segment's cards earn them."""

from __future__ import annotations

from tests.kit.programs import MakeCard, MakeProgram
from tests.loyalty.test_campaigns import campaign, clean, local, pay_at
from walletcards.db import Database
from walletcards.loyalty.models import Customer


def test_a_segment_campaign_pays_only_the_segments_members(
    database: Database, make_program: MakeProgram, make_card: MakeCard
) -> None:
    program = make_program(
        welcome=None,
        every_nth=None,
        segments=[{"code": "opted-in", "marketing_consent": True}],
        campaigns=[campaign(starts="2026-03-01", ends="2026-03-31", segment="opted-in")],
    )
    member = make_card(program, email="in@example.com")
    other = make_card(program, email="out@example.com")
    with database.transaction() as session:
        customer = session.get(Customer, member.customer_id)
        assert customer is not None
        customer.marketing_consent = True
    inside = pay_at(database, program, member, "1", 1000, local(2026, 3, 2, 12, 0))
    outside = pay_at(database, program, other, "2", 1000, local(2026, 3, 2, 12, 0))
    assert [e.points for e in inside.entries] == [50, 50]  # base + the double's extra
    assert [e.points for e in outside.entries] == [50]
    clean(database)
