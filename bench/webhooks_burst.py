"""The burst half of ``bench/webhooks.py``: Shopify deliveries offered at a fixed rate (open
loop: each has a scheduled send time and its latency is counted from it, so a slow server
shows as latency, never as a slower sender), then appliers drain the inbox and the ledger is
verified.

The sender is one asyncio loop with ``connections`` keep-alive HTTP/1.1 connections; a request
waits for a free connection (that wait counts in its latency). A connection the server closed
while idle is opened again and the request sent again (the delivery id dedupes, as it does
for Shopify's own retries).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select, text

from walletcards.db import Database
from walletcards.loyalty.models import Order
from walletcards.loyalty.verify import verify
from walletcards.orders.models import InboxDelivery

ANSWER_WITHIN = 5.0  # seconds: the bound on every answer


@dataclass
class Sent:
    latencies: list[float]  # seconds from the scheduled send time to the whole answer
    statuses: dict[int, int]  # HTTP status -> how many
    resent: int  # requests sent again on a new connection
    elapsed: float  # first scheduled send to last answer


def requests(bodies: Iterator[tuple[bytes, dict[str, str]]], path: str) -> list[bytes]:
    """Each delivery as the bytes of one HTTP/1.1 request."""
    made = []
    for body, headers in bodies:
        lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        made.append(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return made


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    writer.write(request)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("closed by the server")
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(status_line.split()[1])


async def _send_all(port: int, payloads: list[bytes], rate: float, connections: int) -> Sent:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    sent = Sent([], {}, 0, 0.0)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (item := await queue.get()) is not None:
            scheduled, request = item
            for attempt in range(3):
                try:
                    status = await _exchange(reader, writer, request)
                    break
                except (ConnectionError, asyncio.IncompleteReadError):
                    if attempt == 2:
                        raise
                    sent.resent += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
            sent.latencies.append(loop.time() - scheduled)
            sent.statuses[status] = sent.statuses.get(status, 0) + 1
        writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    start = loop.time() + 0.2
    for index, request in enumerate(payloads):
        scheduled = start + index / rate
        if (delay := scheduled - loop.time()) > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((scheduled, request))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    sent.elapsed = loop.time() - start
    return sent


def offer(port: int, payloads: list[bytes], rate: float, connections: int) -> Sent:
    """Send every payload at ``rate`` per second over ``connections`` connections."""
    return asyncio.run(_send_all(port, payloads, rate, connections))


def report_burst(sent: Sent, count: int, rate: float, connections: int, healthz: float) -> None:
    lat = sorted(sent.latencies)
    q = statistics.quantiles(lat, n=100)
    late = sum(1 for value in lat if value > ANSWER_WITHIN)
    others = {status: n for status, n in sent.statuses.items() if status != 200}
    print()
    print(
        f"burst: {count} Shopify orders/paid offered at {rate:,.0f}/s (open loop, "
        f"{connections} connections), latency from each one's scheduled send time"
    )
    print("| offered/s | answered/s | vs /healthz | p50 ms | p99 ms | max ms | > 5 s | not 200 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    answered = count / sent.elapsed
    print(
        f"| {rate:,.0f} | {answered:,.0f} | {answered / healthz:.2f} | {q[49] * 1000:,.0f} "
        f"| {q[98] * 1000:,.0f} | {lat[-1] * 1000:,.0f} | {late} | {others or 0} |"
    )
    if sent.resent:
        print(f"({sent.resent} requests sent again on a new connection)")


def drain(database: Database, env: dict[str, str], appliers: int, batch: int, cwd: str) -> float:
    """``appliers`` processes of ``walletcards inbox apply`` until the inbox is drained; the
    seconds it took."""
    command = [sys.executable, "-m", "walletcards.cli", "inbox", "apply", "--batch", str(batch)]
    start = time.perf_counter()
    while waiting(database):
        processes = [
            subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
            for _ in range(appliers)
        ]
        if any(process.wait() != 0 for process in processes):
            raise SystemExit("an applier failed")
    return time.perf_counter() - start


def waiting(database: Database) -> int:
    with database.engine.connect() as conn:
        query = select(func.count()).where(InboxDelivery.outcome == "accepted")
        return int(conn.execute(query).scalar_one())


def check_applied(database: Database, deliveries: int, orders: int) -> None:
    """Every delivery applied, each order stored and earning once, ``ledger verify`` clean."""
    with database.transaction() as session:
        grouped = select(InboxDelivery.outcome, func.count()).group_by(InboxDelivery.outcome)
        outcomes: dict[str, int] = {outcome: n for outcome, n in session.execute(grouped)}
        stored = session.execute(select(func.count()).select_from(Order)).scalar_one()
        per_order = text(  # how many orders earned once, twice … (each must earn once)
            "SELECT n, count(*) FROM (SELECT o.id, count(e.id) AS n FROM orders o "
            "LEFT JOIN ledger_entries e ON e.order_id = o.id AND e.kind = 'earn' "
            "GROUP BY o.id) AS t GROUP BY n"
        )
        earned: dict[int, int] = {n: orders_ for n, orders_ in session.execute(per_order)}
        mismatches = verify(session)
    print(
        f"inbox: {outcomes}; orders stored: {stored} (of {orders} distinct), "
        f"orders by earn entries: {earned}; ledger verify: "
        f"{'clean' if not mismatches else f'{len(mismatches)} MISMATCHES'}"
    )
    once = earned == {1: orders}
    if outcomes != {"applied": deliveries} or stored != orders or not once or mismatches:
        raise SystemExit("the burst was not applied exactly once")


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"
