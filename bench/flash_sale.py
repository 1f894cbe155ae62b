"""Several shops' flash sales at once, as the issue's "Done when" puts it: ``--shops``
programmes (each its own Shopify shop, secret and customers) receive ``--deliveries`` signed
orders/paid deliveries offered open-loop at ``--rate`` per second in all, through gunicorn on
PostgreSQL, while ``--appliers`` worker processes (`walletcards worker --appliers 1`, as
deployed) apply them as they arrive, at CPU priority ``--worker-nice`` (10 by default, as the
README advises for workers sharing a host with gunicorn: answering a shop comes first, applying
may lag; 0 to measure them at the web's priority).

Measured: every answer's latency from its scheduled send time (each within 5 s?), each
delivery's time from acceptance to applied (``inbox_deliveries.received_at`` →
``applied_at``, the order on the card), the time the appliers needed after the last answer
to empty the inbox, then every delivery applied and every order earning exactly once and
``ledger verify`` clean. Baseline in the same run: ``GET /healthz`` through the same gunicorn.

A flash sale of 1,000 orders a minute is ~17/s; ten at once ~167/s (the default rate).

    python -m bench.flash_sale [--shops 10] [--rate 167] [--deliveries 20000] [--appliers 2]
    python -m bench.flash_sale --quick     (what bench/run.py --quick runs)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

from sqlalchemy import text

from bench.ledger import NOW, scratch_database
from bench.webhooks import PORT, ROOT, TEMPLATE, healthz, load, serving
from bench.webhooks_burst import (
    check_applied,
    load_average,
    offer,
    report_burst,
    waiting,
)
from walletcards.db import Database
from walletcards.loyalty.config import load_program_file, parse_program
from walletcards.loyalty.programs import apply_program
from walletcards.orders.signatures import base64_hmac


def shop_secret(shop: int) -> str:
    return f"bench-flash-secret-{shop:03d}-0123456789"  # a throwaway for the bench


def delivery(index: int, shops: int) -> bytes:
    """One HTTP/1.1 request: order ``index`` of shop ``index % shops``; of each shop's orders
    about one in five from a repeat customer of that shop (bench/webhooks.py's rule, per shop);
    every customer their own email and phone."""
    shop, nth = index % shops, index // shops  # the shop's nth order
    customer_no = nth if nth % 3 else nth // 3
    order = dict(TEMPLATE, id=10**18 + index)
    email = f"c{customer_no}@shop{shop}.example"
    customer_id = 10**17 + shop * 10**9 + customer_no
    order["customer"] = dict(TEMPLATE["customer"], id=customer_id, email=email, phone=None)
    order["email"] = order["contact_email"] = email
    order["phone"] = f"+1613{(shop * 10**5 + customer_no) % 10**7:07d}"
    order["processed_at"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    body = json.dumps(order).encode()
    headers = {
        "Host": "127.0.0.1",
        "Content-Length": str(len(body)),
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/paid",
        "X-Shopify-Shop-Domain": f"shop{shop}.myshopify.com",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Hmac-Sha256": base64_hmac(shop_secret(shop), body),
    }
    head = [f"POST /webhooks/shop{shop}/shopify HTTP/1.1"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def programmes(db: Database, shops: int) -> None:
    base: dict[str, Any] = dict(load_program_file(ROOT / "examples/demo.toml").document)
    for shop in range(shops):
        document = dict(
            base,
            slug=f"shop{shop}",
            webhooks={
                "shopify_secret": shop_secret(shop),
                "shopify_shop_domain": f"shop{shop}.myshopify.com",
            },
        )
        with db.transaction() as session:
            apply_program(session, parse_program(document), NOW)


def applied_latency(db: Database) -> str:
    """Acceptance → applied over every delivery: p50 / p95 / max in ms."""
    with db.engine.connect() as conn:
        seconds = [
            float(row[0])
            for row in conn.execute(
                text(
                    "SELECT EXTRACT(EPOCH FROM applied_at - received_at) FROM inbox_deliveries"
                    " WHERE applied_at IS NOT NULL"
                )
            )
        ]
    q = statistics.quantiles(seconds, n=100)
    return f"{q[49] * 1000:,.0f} / {q[94] * 1000:,.0f} / {max(seconds) * 1000:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shops", type=int, default=10)
    parser.add_argument("--rate", type=float, default=167.0, help="offered per second, all shops")
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--appliers", type=int, default=2, help="worker processes applying")
    parser.add_argument("--worker-nice", type=int, default=10, help="the workers' nice value")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="a small run (CI)")
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    if args.quick:
        args.shops, args.rate, args.deliveries, args.appliers = 3, 100.0, 300, 1
    print(f"load average (1/5/15 min) at the start: {load_average()}")
    with scratch_database("postgresql", args.postgres) as db:
        programmes(db, args.shops)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "WALLETCARDS_DATABASE_URL": db.url,
            "WALLETCARDS_PUBLIC_URL": "https://cards.example.com",
            "WALLETCARDS_SECRET_KEY": "bench-secret-key-0123456789",
        }
        payloads = [delivery(i, args.shops) for i in range(args.deliveries)]
        command = ["nice", "-n", str(args.worker_nice), sys.executable, "-m", "walletcards.cli"]
        command += ["worker", "--appliers", "1"]
        workers = [
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
            for _ in range(args.appliers)
        ]
        try:
            with serving(env, args.workers, args.threads):
                elapsed, lat = load(8, [healthz] * 2000)
                base = len(lat) / elapsed
                print(f"GET /healthz through the same gunicorn (baseline): {base:,.0f}/s")
                sent = offer(PORT, payloads, args.rate, args.connections)
            answered_at = time.perf_counter()
            report_burst(sent, args.deliveries, args.rate, args.connections, base)
            left = waiting(db)
            while waiting(db):
                time.sleep(0.2)
            after = time.perf_counter() - answered_at
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=60)
        print(
            f"{args.shops} shops, {args.appliers} worker processes (nice {args.worker_nice}) "
            "applying during the sale: "
            f"{left} deliveries still waiting at the last answer, inbox empty "
            f"{after:.1f} s after it; accepted -> applied p50 / p95 / max ms: "
            f"{applied_latency(db)}"
        )
        check_applied(db, args.deliveries, args.deliveries)
    print(f"load average (1/5/15 min) at the end: {load_average()}")


if __name__ == "__main__":
    main()
