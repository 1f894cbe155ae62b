"""On PostgreSQL the dashboard's queries read indexes, never a big table in full.

The dataset comes from the dashboard benchmark's generator (bench/dashboard.py, which runs
the same check on a million cards and ten million entries); here it is 60,000 cards and
600,000 entries, enough for the planner to price a full scan above an index. Read live from
the ledger first, then from the daily roll-ups (no ledger read left but today's).
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.dashboard import generate, roll_up_all, run_dashboard, scans, sequential_scans
from walletcards.db import Database
from walletcards.loyalty.models import Program

pytestmark = pytest.mark.postgres


def test_dashboard_queries_use_indexes_on_a_large_programme(
    database: Database, program: Program
) -> None:
    generate(database, program.id, cards=60_000, entries_per_card=10)
    for days in (30, 365):
        check(run_dashboard(database, program, days), rolled=False)
    assert roll_up_all(database, program) == 730
    for days in (30, 365):
        check(run_dashboard(database, program, days), rolled=True)


def check(found: list[dict[str, Any]], rolled: bool) -> None:
    assert sequential_scans(found) == []
    indexes = {index for item in found for _, _, index in scans(item["plan"]) if index}
    assert {
        "ix_cards_program_tier",
        "ix_cards_program_created",
        "ix_cards_program_spend",  # top customers: the largest lifetime spenders first
        "ix_ledger_entries_program_created",  # the range ends today, which is always live
        "ix_orders_program_paid_at",
        "ix_lots_program_expiry",
    } <= indexes
    live = [item for item in found if "WITH buckets" in item["sql"]]
    assert len(live) == 1
    # rolled up, the live statement reads today only: one bucket, not one per day or week
    assert (live[0]["sql"].count("UNION ALL") == 0) is rolled
