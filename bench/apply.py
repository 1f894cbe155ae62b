"""One applier applying accepted Shopify orders/paid deliveries on PostgreSQL (issue 21's
"apply hot path"): applied per second, statements and CPU per order, and the ratio to raw
single-row INSERT + COMMIT on the same database in the same run.

The deliveries are accepted in-process (``intake.accept``, what the view does after the HMAC
check), so only the applier is timed. Two loads, each in its own scratch database: every
order from a new customer (customer, card, welcome bonus: the costly case), and the mix of
``bench.webhooks`` (one order in three from a repeat customer).

Each customer has their own phone number, as a flash sale's customers do (``bench.webhooks``'
bodies all carry the fixture's one phone, so every order took the same identity lock and two
appliers' batches queued behind each other; ``--shared-phone`` keeps that, to compare).
``--appliers N`` drains with N applier processes at once (statements and CPU summed over them).

    python -m bench.apply [--orders N] [--batch B] [--appliers N] [--shared-phone] [--quick]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, text

from bench.ledger import NOW, scratch_database
from bench.webhooks import ROOT, SECRET, headers_for, order_body, raw_inserts
from walletcards.clock import SystemClock
from walletcards.db import Database
from walletcards.loyalty.config import load_program_file, parse_program
from walletcards.loyalty.programs import apply_program
from walletcards.loyalty.verify import verify
from walletcards.orders import intake
from walletcards.orders.applier import Applier
from walletcards.orders.events import Verified
from walletcards.orders.sources import SOURCES, parse_delivery

SHOP = "bench.myshopify.com"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def accept_orders(db: Database, bodies: list[bytes]) -> None:
    """Accept every body into the inbox (verified already, as the view leaves them)."""
    document: dict[str, Any] = dict(load_program_file(ROOT / "examples/demo.toml").document)
    document.update(slug="bench", webhooks={"shopify_secret": SECRET, "shopify_shop_domain": SHOP})
    with db.transaction() as session:
        program, _ = apply_program(session, parse_program(document), NOW)
        for body in bodies:
            headers = {name.lower(): value for name, value in headers_for(body).items()}
            delivery = parse_delivery(
                SOURCES["shopify"], Verified(headers, body), program.currency, SHOP
            )
            intake.accept(session, program, delivery, body, SystemClock().now())


def own_phone(body: bytes) -> bytes:
    """The body with a phone number of its customer's own (derived from the customer id)."""
    order = json.loads(body)
    number = int(order["customer"]["id"]) % 10**6
    order["customer"] = dict(order["customer"], phone=f"+1613{2000000 + number:07d}")
    return json.dumps(order).encode()


def applier(url: str, batch: int, start: Any, out: Any) -> None:
    """One applier process: drains, then reports (taken, statements, CPU seconds)."""
    statements = 0

    def counted(*_: object) -> None:
        nonlocal statements
        statements += 1

    with Database(url) as db:
        event.listen(db.engine, "before_cursor_execute", counted)
        worker = Applier(db, "https://cards.example.com", SystemClock(), batch=batch)
        start.wait()
        cpu = time.process_time()
        taken = worker.drain()
        out.put((taken, statements, time.process_time() - cpu))


def drain(db: Database, batch: int, count: int, appliers: int) -> tuple[float, float, float]:
    """(applied per second, statements per order, CPU ms per order) for ``appliers`` applier
    processes draining together."""
    spawn = multiprocessing.get_context("spawn")
    start, out = spawn.Event(), spawn.Queue()
    processes = [
        spawn.Process(target=applier, args=(db.url, batch, start, out)) for _ in range(appliers)
    ]
    for process in processes:
        process.start()
    time.sleep(1.0 + appliers)  # each has imported walletcards and connected
    began = time.perf_counter()
    start.set()
    results = [out.get() for _ in processes]
    elapsed = time.perf_counter() - began
    for process in processes:
        process.join()
    taken = sum(r[0] for r in results)
    statements, cpu = sum(r[1] for r in results), sum(r[2] for r in results)
    with db.transaction() as session:
        outcomes = dict(
            session.execute(
                text("SELECT outcome, count(*) FROM inbox_deliveries GROUP BY outcome")
            ).all()
        )
        problems = verify(session)
    if taken != count or outcomes != {"applied": count} or problems:
        raise SystemExit(f"applied {taken} of {count}: {outcomes}; verify: {problems[:3]}")
    return count / elapsed, statements / count, cpu / count * 1000


def run(
    name: str, bodies: list[bytes], batch: int, appliers: int, row: Callable[..., None]
) -> None:
    with scratch_database("postgresql", PG) as db:
        accept_orders(db, bodies)
        raw = raw_inserts(db, min(len(bodies), 2000))
        rate, statements, cpu = drain(db, batch, len(bodies), appliers)
    row(name, len(bodies), rate, statements, cpu, raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100, help="the applier's batch")
    parser.add_argument("--appliers", type=int, default=1, help="applier processes at once")
    parser.add_argument(
        "--shared-phone", action="store_true", help="every order with the fixture's one phone"
    )
    parser.add_argument("--quick", action="store_true", help="100 orders (CI)")
    args = parser.parse_args()
    count = 100 if args.quick else args.orders
    phones = "one shared phone" if args.shared_phone else "a phone per customer"
    print(
        f"{args.appliers} applier(s), batches of {args.batch}, {count} accepted Shopify "
        f"orders/paid ({phones}), "
        f"PostgreSQL; load average {os.getloadavg()[0]:.1f}"
    )
    print(
        "| orders | count | applied per second | statements per order | CPU ms per order "
        "| raw INSERT+COMMIT per second | vs raw |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")

    def row(name: str, n: int, rate: float, stmts: float, cpu: float, raw: float) -> None:
        figures = f"{rate:,.0f} | {stmts:.1f} | {cpu:.1f} | {raw:,.0f} | {rate / raw:.2f}"
        print(f"| {name} | {n} | {figures} |")

    def body(index: int) -> bytes:
        return order_body(index) if args.shared_phone else own_phone(order_body(index))

    new = [body(3 * index + 1) for index in range(count)]  # never a multiple of 3
    run("new customers", new, args.batch, args.appliers, row)
    mix = [body(index) for index in range(count)]
    run("bench.webhooks mix (1 in 3 repeat)", mix, args.batch, args.appliers, row)


if __name__ == "__main__":
    main()
