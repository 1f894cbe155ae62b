"""Signed Shopify orders/paid deliveries against gunicorn + PostgreSQL on loopback: accepted
(the view verifies and writes the inbox row), then applied by one applier; with ``--burst``,
deliveries offered open-loop at ``--rate`` per second, then drained by ``--appliers``
processes and checked (bench/webhooks_burst.py).

Distinct orders, one customer in three a repeat customer. Baselines in the same run: GET
/healthz through the same gunicorn (HTTP + WSGI, the process alone: no database, no writes)
for accepting, and raw single-row INSERT + COMMIT on the same database for applying.

    python -m bench.webhooks [--orders N] [--clients C] [--workers W] [--batch B]
                             [--burst 20000 --rate 1000 --connections 200 --appliers 4]
    python -m bench.webhooks --quick     (what bench/run.py --quick runs)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.ledger import NOW, scratch_database
from bench.webhooks_burst import (
    check_applied,
    drain,
    load_average,
    offer,
    report_burst,
    requests,
    waiting,
)
from walletcards.clock import SystemClock
from walletcards.db import Database
from walletcards.loyalty.config import load_program_file, parse_program
from walletcards.loyalty.programs import apply_program
from walletcards.orders.applier import Applier
from walletcards.orders.signatures import base64_hmac

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-shopify-secret-0123456789"  # noqa: S105  (a throwaway for the bench)
TEMPLATE = json.loads((ROOT / "tests/orders/fixtures/shopify_order_paid.json").read_text())
PORT = 8765
WARM_UP = 24  # deliveries sent before the accept measurement (two per gunicorn thread)


def order_body(index: int) -> bytes:
    customer_no = index if index % 3 else index // 3  # every third order: a repeat customer
    order = dict(TEMPLATE, id=10**18 + index)
    order["customer"] = dict(
        TEMPLATE["customer"], id=10**17 + customer_no, email=f"c{customer_no}@bench.example"
    )
    order["email"] = order["contact_email"] = f"c{customer_no}@bench.example"
    order["processed_at"] = datetime.now(UTC).isoformat()
    return json.dumps(order).encode()


def headers_for(body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/paid",
        "X-Shopify-Shop-Domain": "bench.myshopify.com",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Hmac-Sha256": base64_hmac(SECRET, body),
    }


def load(
    clients: int, requests: list[Callable[[http.client.HTTPConnection], int]]
) -> tuple[float, list[float]]:
    """Run the requests over ``clients`` keep-alive connections; (elapsed, latencies)."""
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    queue = list(reversed(requests))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        while True:
            with lock:
                if not queue:
                    break
                request = queue.pop()
            t0 = time.perf_counter()
            status = request(conn)
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    failures.append(status)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. HTTP {failures[0]}")
    return time.perf_counter() - start, latencies


def post(body: bytes) -> Callable[[http.client.HTTPConnection], int]:
    def send(conn: http.client.HTTPConnection) -> int:
        conn.request("POST", "/webhooks/bench/shopify", body=body, headers=headers_for(body))
        response = conn.getresponse()
        response.read()
        return response.status

    return send


def healthz(conn: http.client.HTTPConnection) -> int:
    conn.request("GET", "/healthz")
    response = conn.getresponse()
    response.read()
    return response.status


def report(name: str, count: int, elapsed: float, lat: list[float], base: float | None) -> float:
    rate = count / elapsed
    q = statistics.quantiles(lat, n=100)
    ratio = f"{rate / base:.2f}" if base else "1.00"
    print(f"| {name} | {count} | {rate:,.0f} | {q[49] * 1000:.1f} | {q[98] * 1000:.1f} | {ratio} |")
    return rate


def raw_inserts(database: Database, count: int) -> float:
    """Single-row INSERT + COMMIT per second on ``database`` (the applier's floor)."""
    with database.engine.connect() as conn:
        conn.execute(text("CREATE TEMPORARY TABLE bench_raw (id bigint, body text)"))
        conn.commit()
        start = time.perf_counter()
        for index in range(count):
            conn.execute(text("INSERT INTO bench_raw VALUES (:i, 'x')"), {"i": index})
            conn.commit()
        return count / (time.perf_counter() - start)


def apply_all(database: Database, batch: int, count: int) -> None:
    """One applier drains the accepted deliveries; its rate against raw INSERT + COMMIT."""
    raw = raw_inserts(database, min(count, 2000))
    applier = Applier(database, "https://cards.example.com", SystemClock(), batch=batch)
    start = time.perf_counter()
    taken = applier.drain()
    elapsed = time.perf_counter() - start
    with database.engine.connect() as conn:
        waiting = conn.execute(
            text("SELECT outcome, count(*) FROM inbox_deliveries GROUP BY outcome")
        ).all()
    if taken != count or dict(waiting) != {"applied": count}:
        raise SystemExit(f"applied {taken} of {count}: {dict(waiting)}")
    print()
    print(f"one applier, batches of {batch}, {count} accepted orders/paid")
    print("| work | count | per second | vs raw INSERT+COMMIT |")
    print("|---|---:|---:|---:|")
    print(f"| raw INSERT + COMMIT (baseline) | {min(count, 2000)} | {raw:,.0f} | 1.00 |")
    print(f"| apply orders/paid | {count} | {count / elapsed:,.0f} | {count / elapsed / raw:.2f} |")


@contextmanager
def serving(env: dict[str, str], workers: int, threads: int) -> Iterator[None]:
    """gunicorn (gthread) serving ``wsgi:app`` on PORT until the block ends."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            "--keep-alive",
            "30",  # the burst's connections stay open between its requests
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
                if healthz(conn) == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def burst(db: Database, env: dict[str, str], args: argparse.Namespace, healthz_rate: float) -> None:
    """``args.burst`` deliveries offered at ``args.rate``/s, then drained by ``args.appliers``
    processes; every one answered within 5 s, applied once, ledger verify clean."""
    first = args.orders  # order ids after the closed-loop ones
    bodies = (order_body(i) for i in range(first, first + args.burst))
    payloads = requests(((b, headers_for(b)) for b in bodies), "/webhooks/bench/shopify")
    with serving(env, args.workers, args.threads):
        sent = offer(PORT, payloads, args.rate, args.connections)
    report_burst(sent, args.burst, args.rate, args.connections, healthz_rate)
    waiting_now = waiting(db)
    seconds = drain(db, {**env, "PYTHONPATH": str(ROOT)}, args.appliers, args.batch, str(ROOT))
    print(
        f"drained {waiting_now} waiting deliveries with {args.appliers} appliers "
        f"(`walletcards inbox apply --batch {args.batch}` processes): {seconds:.1f} s, "
        f"{waiting_now / seconds:,.0f} applied per second"
    )
    check_applied(db, args.orders + args.burst, args.orders + args.burst)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100, help="the applier's batch")
    parser.add_argument("--burst", type=int, default=0, help="deliveries offered open-loop")
    parser.add_argument("--rate", type=float, default=1000.0, help="the burst's offered rate")
    parser.add_argument("--connections", type=int, default=200, help="the burst's connections")
    parser.add_argument("--appliers", type=int, default=4, help="processes draining the burst")
    parser.add_argument(
        "--quick", action="store_true", help="a small run (CI: keeps the harness working)"
    )
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    if args.quick:
        args.orders, args.burst, args.rate, args.appliers = 100, 300, 300.0, 2
    document: dict[str, Any] = dict(load_program_file(ROOT / "examples/demo.toml").document)
    document.update(
        slug="bench",
        webhooks={"shopify_secret": SECRET, "shopify_shop_domain": "bench.myshopify.com"},
    )
    print(f"load average (1/5/15 min) at the start: {load_average()}")
    with scratch_database("postgresql", args.postgres) as db:
        with db.transaction() as session:
            apply_program(session, parse_program(document), NOW)
        env = {
            **os.environ,
            "WALLETCARDS_DATABASE_URL": db.url,
            "WALLETCARDS_PUBLIC_URL": "https://cards.example.com",
            "WALLETCARDS_SECRET_KEY": "bench-secret-key-0123456789",
        }
        bodies = [order_body(i) for i in range(args.orders + WARM_UP)]
        print(
            f"webhook benchmark: gunicorn {args.workers} workers x {args.threads} threads, "
            f"{args.clients} keep-alive clients, PostgreSQL, {args.orders} orders"
        )
        print("| request | count | per second | p50 ms | p99 ms | vs /healthz |")
        print("|---|---:|---:|---:|---:|---:|")
        with serving(env, args.workers, args.threads):
            elapsed, lat = load(args.clients, [healthz] * max(args.orders, 200))
            base = report("GET /healthz (baseline)", len(lat), elapsed, lat, None)
            if args.orders:  # each worker's connections and caches first (not measured)
                load(args.clients, [post(b) for b in bodies[:WARM_UP]])
                elapsed, lat = load(args.clients, [post(b) for b in bodies[WARM_UP:]])
                report("POST orders/paid (accepted)", args.orders, elapsed, lat, base)
        args.orders += WARM_UP if args.orders else 0  # what the inbox holds from here on
        if args.orders:
            apply_all(db, args.batch, args.orders)
        if args.burst:
            burst(db, env, args, base)
        print(f"load average (1/5/15 min) at the end: {load_average()}")


if __name__ == "__main__":
    main()
