"""The dashboard on a programme with a million cards and ten million ledger entries (PostgreSQL).

Generates the dataset in SQL (generate_series), runs the dashboard's queries exactly as
production does, prints each one's time and plan, and fails if any of them reads one of the big
tables with a sequential scan instead of an index. Each range runs twice: read live from the
ledger (no roll-up rows yet) and after every closed day was rolled up (admin/rollups.py, as
``walletcards dashboard rollup`` does; its time is printed). Baseline in the same run: one
sequential scan of the ledger (``count(*)`` over every entry), what a query without an index
would pay.

    python -m bench.dashboard [--cards N] [--entries-per-card N]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from bench.ledger import NOW, ROOT, scratch_database
from walletcards.admin.metrics import dashboard
from walletcards.admin.period import Period
from walletcards.admin.rollups import rebuild
from walletcards.db import Database
from walletcards.loyalty import order_facts
from walletcards.loyalty.config import load_program_file
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import apply_program

BIG_TABLES = {"cards", "ledger_entries", "orders", "lots", "customers"}
START = NOW - timedelta(days=730)  # the data spans the two years before NOW
CHECKED_FROM = 50_000  # cards; below this a full scan of a small table can be the best plan


def generate(database: Database, program_id: int, cards: int, entries_per_card: int) -> None:
    """Customers and cards (created over two years, tiers spread), ``entries_per_card`` entries
    each (earn, bonus, redeem, release), two orders and one expiring lot per card."""
    entries = cards * entries_per_card
    seconds = int(timedelta(days=730).total_seconds())
    params = {"p": program_id, "n": cards, "e": entries, "start": START, "span": seconds}
    with database.engine.begin() as conn:
        # Bulk load without per-row foreign-key triggers (superuser only; this transaction only).
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(
            text(
                "INSERT INTO customers (program_id, external_id, email, created_at) "
                "SELECT :p, 'gen-' || g, 'gen' || g || '@example.com', :start "
                "FROM generate_series(1, :n) g"
            ),
            params,
        )
        conn.execute(
            text(
                "INSERT INTO cards (program_id, customer_id, serial, public_token, auth_token, "
                "qr_secret, member_number, available, pending, debt, paid_orders, tier_code, "
                "version, pushed_version, push_attempts, created_at, updated_at) "
                "SELECT :p, c.id, 'gen-s-' || c.id, 'gen-t-' || c.id, 'a', 'q', "
                "'9' || lpad(c.id::text, 11, '0'), c.id % 500, 0, 0, 2, "
                "(ARRAY['bronze', 'bronze', 'bronze', 'silver', 'silver', 'gold', NULL, NULL]"
                ")[1 + c.id % 8], 2, 2, 0, "
                ":start + make_interval(secs => (c.id * 7919) % :span), :start "
                "FROM customers c WHERE c.program_id = :p"
            ),
            params,
        )
        first = conn.execute(
            text("SELECT min(id) FROM cards WHERE program_id = :p"), params
        ).scalar_one()
        params["first"] = first
        conn.execute(
            text(
                "INSERT INTO ledger_entries (program_id, card_id, kind, points, available_delta, "
                "pending_delta, debt_delta, idempotency_key, input_hash, cause, created_at) "
                "SELECT :p, :first + g % :n, "
                "(ARRAY['earn', 'earn', 'earn', 'earn', 'bonus', 'redeem', 'redeem', 'release',"
                " 'earn', 'earn'])[1 + g % 10], 1 + g % 400, 0, 0, 0, 'gen:' || g, 'h', 'gen', "
                ":start + make_interval(secs => (g * 104729) % :span) "
                "FROM generate_series(1::bigint, :e) g"
            ),
            params,
        )
        conn.execute(
            text(
                "INSERT INTO orders (program_id, card_id, source, external_id, currency, "
                "total_minor, eligible_minor, refunded_minor, refunded_eligible_minor, "
                "base_points, bonus_points, points_reversed, status, paid_at, created_at) "
                "SELECT :p, :first + g % :n, 'orders', 'gen-' || g, 'USD', 1000 + g % 9000, "
                "1000, 0, 0, 50, 0, 0, CASE WHEN g % 50 = 0 THEN 'cancelled' ELSE 'paid' END, "
                ":start + make_interval(secs => (g * 15485863) % :span), :start "
                "FROM generate_series(1::bigint, 2 * :n) g"
            ),
            params,
        )
        conn.execute(
            text(
                "INSERT INTO lots (program_id, card_id, entry_id, points, remaining, released, "
                "available_at, expires_at) "
                "SELECT :p, e.card_id, e.id, e.points, e.points / 2, true, e.created_at, "
                "e.created_at + interval '180 days' "
                "FROM ledger_entries e WHERE e.program_id = :p AND e.kind = 'earn' "
                "AND e.id % :per = 0 AND e.card_id >= :first"
            ),
            {**params, "per": max(entries_per_card // 2, 1)},
        )
    with database.engine.begin() as conn:
        conn.execute(text(order_facts.BACKFILL))  # the cards' order facts, as migration 0025
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement the engine runs inside the block, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plans(database: Database, statements: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) of each captured statement: its plan tree and time."""
    out = []
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
            row = cursor.fetchone()
            assert row is not None
            document = row[0]
            tree = document[0] if isinstance(document, list) else json.loads(document)[0]
            out.append({"sql": statement, "plan": tree["Plan"], "ms": tree["Execution Time"]})
        raw.rollback()
    finally:
        raw.close()
    return out


def scans(node: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """(node type, relation, index) for every scan in a plan tree."""
    if "Relation Name" in node:
        yield node["Node Type"], node["Relation Name"], node.get("Index Name")
    for child in node.get("Plans", []):
        yield from scans(child)


def sequential_scans(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(relation, statement) for each big table read in full."""
    return [
        (relation, item["sql"][:80])
        for item in found
        for kind, relation, _ in scans(item["plan"])
        if kind == "Seq Scan" and relation in BIG_TABLES
    ]


def roll_up_all(database: Database, program: Program) -> int:
    """Every closed day of the generated data rolled up, a month per transaction."""
    written, first = 0, START.date() - timedelta(days=1)
    days = [first + timedelta(days=n) for n in range((NOW.date() - first).days)]
    for at in range(0, len(days), 31):
        with database.transaction() as session:
            written += rebuild(session, program, days[at : at + 31], NOW)
    return written


def run_dashboard(database: Database, program: Program, days: int) -> list[dict[str, Any]]:
    last = NOW.date() - timedelta(days=1)
    period = Period(last - timedelta(days=days - 1), last, "America/New_York")
    with captured(database.engine) as statements, database.transaction() as session:
        dashboard(session, program, period, NOW)
    return plans(database, statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cards", type=int, default=1_000_000)
    parser.add_argument("--entries-per-card", type=int, default=10)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    with scratch_database("postgresql", args.postgres) as db:
        with db.transaction() as session:
            program, _ = apply_program(session, load_program_file(ROOT / "examples/demo.toml"), NOW)
            session.expunge(program)
        t0 = time.perf_counter()
        generate(db, program.id, args.cards, args.entries_per_card)
        loaded = time.perf_counter() - t0
        with db.engine.connect() as conn:
            t0 = time.perf_counter()
            total = conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
            baseline = (time.perf_counter() - t0) * 1000
        print(
            f"dashboard benchmark: {args.cards:,} cards, {total:,} entries "
            f"(generated in {loaded:.0f} s); baseline: a full scan of the ledger "
            f"{baseline:.0f} ms"
        )
        print("| range | read from | query | ms | vs full ledger scan | scans |")
        print("|---|---|---|---:|---:|---|")
        failures = []
        for source in ("ledger", "roll-ups"):
            if source == "roll-ups":
                t0 = time.perf_counter()
                days = roll_up_all(db, program)
                print(f"rolled up {days} days in {time.perf_counter() - t0:.1f} s")
            for days in (30, 365):
                failures += _report(run_dashboard(db, program, days), days, source, baseline)
        if failures and args.cards >= CHECKED_FROM:
            raise SystemExit(f"sequential scans of big tables: {failures}")
        if failures:  # a small quick run: full scans of small tables are the right plan
            print(f"not checked below {CHECKED_FROM:,} cards: {len(failures)} full scan(s)")
        else:
            print(f"on {date.today()}: no query reads a big table in full")


def _report(found: list[dict[str, Any]], days: int, source: str, baseline: float) -> list[Any]:
    for item in found:
        used = sorted({f"{k} {r}" + (f" ({i})" if i else "") for k, r, i in scans(item["plan"])})
        print(
            f"| {days} days | {source} | {_name(item['sql'])} | {item['ms']:.1f} | "
            f"{item['ms'] / baseline:.3f} | {'; '.join(used)} |"
        )
    total_ms = sum(item["ms"] for item in found)
    print(
        f"| {days} days | {source} | **whole dashboard** | {total_ms:.1f} | "
        f"{total_ms / baseline:.3f} | |"
    )
    return sequential_scans(found)


def _name(sql: str) -> str:
    for needle, name in (
        ("WITH buckets", "series, days without a roll-up row (live)"),
        ("FROM daily_rollups", "series, roll-up rows"),
        ("orders.card_id IN", "top customers, largest lifetime spenders"),
        ("GROUP BY orders.card_id", "top customers, every order"),
        ("ORDER BY cards.spend_minor DESC", "largest lifetime spenders"),
        ("GROUP BY cards.tier_code", "members per tier"),
        ("sum(lots.remaining)", "points expiring in 30 days"),
        ("count(*) AS count_1", "members who joined since the range began (unrolled days)"),
    ):
        if needle in sql:
            return name
    return sql[:40].replace("\n", " ")


if __name__ == "__main__":
    main()
