"""RFM segments recomputed on a large programme (PostgreSQL): the daily job's cost.

Generates cards and two orders each (bench/dashboard.py's generator) and the cards' order facts
(migration 0025's backfill, loyalty/order_facts.py), then times the daily segments job for one
programme — the twelve RFM cut points from a sample of the cards (loyalty/rfm.py) and every
segment's size in one pass over the cards — against baselines in the same run: one sequential
scan of the cards (``sum(available)``) and one of the orders.

    python -m bench.segments [--cards N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from sqlalchemy import text

from bench.dashboard import generate
from bench.ledger import NOW, ROOT, scratch_database
from walletcards.db import Database
from walletcards.loyalty import order_facts, segments
from walletcards.loyalty.config import load_program_file
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import apply_program
from walletcards.loyalty.segment_models import RfmCuts


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def scan(db: Database, sql: str, program: Program) -> float:
    def run() -> None:
        with db.engine.connect() as conn:
            conn.execute(text(sql), {"p": program.id}).scalar_one()

    run()  # warm the cache like the job's own second run
    return min(timed(run) for _ in range(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cards", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    with scratch_database("postgresql", args.postgres) as db:
        with db.transaction() as session:
            program, _ = apply_program(session, load_program_file(ROOT / "examples/demo.toml"), NOW)
            session.expunge(program)

        def load() -> None:
            generate(db, program.id, args.cards, 1)
            with db.engine.begin() as conn:
                conn.execute(text(order_facts.BACKFILL))
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM FULL ANALYZE cards"))  # no dead rows left

        loaded = timed(load)
        cards = scan(db, "SELECT sum(available) FROM cards WHERE program_id = :p", program)
        orders = scan(db, "SELECT sum(total_minor) FROM orders WHERE program_id = :p", program)

        def score() -> None:
            with db.transaction() as session:
                merged = session.merge(program)
                segments.score_rfm(session, merged, NOW)
                segments.segments(session, merged, NOW, "en")

        first = timed(score)
        again = min(timed(score) for _ in range(3))  # the cut points rewritten; best of three
        with db.transaction() as session:
            cuts = session.get_one(RfmCuts, program.id)
            sampled, estimated = cuts.sampled, cuts.scored
        with db.transaction() as session:
            sizes = {s.code: s.size for s in segments.segments(session, program, NOW, "en")}
            buyers = session.scalar(
                text(
                    "SELECT count(DISTINCT card_id) FROM orders "
                    "WHERE program_id = :p AND status <> 'cancelled'"
                ),
                {"p": program.id},
            )
        print(
            f"segments benchmark: {args.cards:,} cards, {2 * args.cards:,} orders "
            f"(generated in {loaded:.0f} s)"
        )
        print("| step | seconds | vs one scan of the cards |")
        print("|---|---:|---:|")
        for name, seconds in (
            ("baseline: one sequential scan of the cards", cards),
            ("one sequential scan of the orders", orders),
            ("RFM cut points + every segment's size, first run", first),
            ("RFM cut points + every segment's size, again (best of three)", again),
        ):
            print(f"| {name} | {seconds:.3f} | {seconds / cards:.1f} |")
        scored = sum(size for code, size in sizes.items() if code in segments.RFM_NAMES)
        print(f"scored cards: {scored:,} of {sizes['all']:,} (with a live order: {buyers:,})")
        print(f"cut points from a sample of {sampled:,} cards (estimated scored: {estimated:,})")
        print("sizes: " + ", ".join(f"{code} {size:,}" for code, size in sizes.items()))
        if scored != buyers:
            raise SystemExit("every card with a live order must be scored, and no other")


if __name__ == "__main__":
    main()
