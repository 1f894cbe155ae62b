"""Ledger posting rate: one transaction per entry (lock card, idempotency check, entry, lot,
balance), on SQLite and PostgreSQL, against a baseline measured in the same run: the raw rate
of one-row INSERT + COMMIT transactions on the same engine (the database's own ceiling).

    python -m bench.ledger [--entries N] [--postgres URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from walletcards import migrate
from walletcards.db import Database
from walletcards.loyalty import ledger
from walletcards.loyalty.cards import create_customer, issue_card
from walletcards.loyalty.config import load_program_file
from walletcards.loyalty.programs import apply_program

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 3, 1, tzinfo=UTC)


@contextmanager
def scratch_database(kind: str, pg_url: str) -> Iterator[Database]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp, Database(f"sqlite:///{tmp}/bench.db") as db:
            migrate.upgrade(db)
            yield db
        return
    name = f"walletcards_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
        with Database(url) as db:
            migrate.upgrade(db)
            yield db
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def timed(count: int, op: Callable[[int], object]) -> tuple[float, list[float]]:
    latencies = []
    start = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        op(i)
        latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - start, latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def run(db: Database, entries: int, cards: int = 50) -> dict[str, tuple[float, float, float]]:
    config = load_program_file(ROOT / "examples" / "demo.toml")
    with db.transaction() as session:
        program, _ = apply_program(session, config, NOW)
        card_ids = [
            issue_card(
                session, program, create_customer(session, program, NOW, email=f"{i}@b"), NOW
            ).id
            for i in range(cards)
        ]
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, v INTEGER)"))

    def raw(i: int) -> None:
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO bench_raw (id, v) VALUES (:i, :i)"), {"i": i})

    def credit(i: int) -> None:
        with db.transaction() as session:
            card = ledger.lock_card(session, card_ids[i % cards])
            ledger.credit(
                session,
                card,
                kind="bonus",
                key=f"bench:{i}",
                points=100,
                cause="bench",
                now=NOW,
                available_at=NOW,
                expires_at=NOW + timedelta(days=180),
                max_points=1000,
            )

    def redeem(i: int) -> None:
        with db.transaction() as session:
            card = ledger.lock_card(session, card_ids[i % cards])
            ledger.redeem(session, card, key=f"bench-r:{i}", points=30, cause="bench", now=NOW)

    results = {}
    for name, op in (
        ("raw insert+commit", raw),
        ("ledger credit", credit),
        ("ledger redeem", redeem),
    ):
        elapsed, lat = timed(entries, op)
        results[name] = (entries / elapsed, pct(lat, 50), pct(lat, 99))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    kinds = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
    print(f"ledger benchmark: {args.entries} transactions per row, one entry each")
    print("| database | operation | per second | p50 ms | p99 ms | vs raw insert+commit |")
    print("|---|---|---:|---:|---:|---:|")
    for kind in kinds:
        with scratch_database(kind, args.postgres) as db:
            results = run(db, args.entries)
        base = results["raw insert+commit"][0]
        for name, (rate, p50, p99) in results.items():
            print(f"| {kind} | {name} | {rate:,.0f} | {p50:.2f} | {p99:.2f} | {rate / base:.2f} |")


if __name__ == "__main__":
    main()
