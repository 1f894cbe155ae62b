"""On PostgreSQL the dashboard's queries read indexes, never a big table in full.

The dataset comes from the dashboard benchmark's generator (bench/dashboard.py, which runs
the same check on a million cards and ten million entries); here it is 60,000 cards and
600,000 entries, enough for the planner to price a full scan above an index.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.dashboard import generate, run_dashboard, scans, sequential_scans
from walletcards.db import Database
from walletcards.loyalty.models import Program

pytestmark = pytest.mark.postgres


def test_dashboard_queries_use_indexes_on_a_large_programme(
    database: Database, program: Program
) -> None:
    generate(database, program.id, cards=60_000, entries_per_card=10)
    for days in (30, 365):
        check(run_dashboard(database, program, days))


def check(found: list[dict[str, Any]]) -> None:
    assert len(found) == 5  # members per tier, joined since, series, expiring, top customers
    assert sequential_scans(found) == []
    indexes = {index for item in found for _, _, index in scans(item["plan"]) if index}
    assert {
        "ix_cards_program_tier",
        "ix_cards_program_created",
        "ix_ledger_entries_program_created",
        "ix_orders_program_paid_at",
        "ix_lots_program_expiry",
    } <= indexes
