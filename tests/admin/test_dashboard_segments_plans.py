"""On PostgreSQL the RFM grid is one aggregate over the programme's own rfm_scores rows: through
ix_rfm_scores_group when the programme is a slice of the table, touching none of the big
tables (cards, orders, ledger). Timings at a million cards: docs/dashboard.md."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from bench.dashboard import BIG_TABLES, captured, plans, scans
from tests.kit.programs import MakeProgram
from walletcards.admin.dashboard_segments import rfm_grid
from walletcards.db import Database
from walletcards.loyalty.models import Program

pytestmark = pytest.mark.postgres

FILL = (
    "INSERT INTO rfm_scores (card_id, program_id, recency, frequency, monetary, rfm_group, "
    "scored_at) SELECT :first + g, :p, 1 + g % 5, 1 + (g / 5) % 5, 1 + (g / 25) % 5, 'lost', "
    "now() FROM generate_series(1, :n) g"
)


def test_the_rfm_grid_reads_only_the_programmes_scores_through_the_index(
    database: Database, program: Program, make_program: MakeProgram
) -> None:
    other = make_program(slug="other", name="Other shop")
    with database.engine.begin() as conn:
        conn.execute(text(FILL), {"first": 0, "p": other.id, "n": 60_000})
        conn.execute(text(FILL), {"first": 100_000, "p": program.id, "n": 2_000})
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE rfm_scores"))
    with captured(database.engine) as statements, database.transaction() as session:
        grid = rfm_grid(session, program)
    assert sum(cell.cards for row in grid for cell in row) == 2_000
    (found,) = plans(database, statements)
    read = list(scans(found["plan"]))
    assert {relation for _, relation, _ in read} == {"rfm_scores"}
    assert not {relation for _, relation, _ in read} & BIG_TABLES
    assert "Seq Scan" not in {kind for kind, _, _ in read}
    assert indexes(found["plan"]) == {"ix_rfm_scores_group"}


def indexes(node: dict[str, Any]) -> set[str]:
    """Every index a plan reads (a bitmap heap scan names its index in its child node)."""
    found = {node["Index Name"]} if "Index Name" in node else set()
    for child in node.get("Plans", []):
        found |= indexes(child)
    return found
