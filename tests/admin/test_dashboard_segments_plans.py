"""On PostgreSQL the RFM grid is one aggregate over the programme's cards, scored against the
programme's stored cut points: it never reads the orders or the ledger, and "not erased" reads
only the partial index of erased customers (ix_customers_erased), never the customers table.
Timings at a million cards: BENCHMARKS.md "Segments"."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bench.dashboard import captured, generate, plans, scans
from tests.kit.database import T0
from walletcards.admin.dashboard_segments import rfm_grid
from walletcards.db import Database
from walletcards.loyalty import order_facts, segments
from walletcards.loyalty.models import Program

pytestmark = pytest.mark.postgres


def test_the_rfm_grid_reads_the_programmes_cards_and_no_orders_nor_customers(
    database: Database, program: Program
) -> None:
    generate(database, program.id, 3_000, 1)
    with database.engine.begin() as conn:
        conn.execute(text(order_facts.BACKFILL))
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    with database.transaction() as session:
        scored = segments.score_rfm(session, session.merge(program), T0)
    with captured(database.engine) as statements, database.transaction() as session:
        grid = rfm_grid(session, session.merge(program))
    assert sum(cell.cards for row in grid for cell in row) == scored > 2_900
    found = plans(database, statements)
    read = [scan for item in found for scan in scans(item["plan"])]
    assert not {relation for _, relation, _ in read} & {"orders", "ledger_entries", "lots"}
    assert {index for _, relation, index in read if relation == "customers"} == {
        "ix_customers_erased"
    }
