"""APNs client CPU per push, pushes per second from one worker, and commit -> push latency
while a backlog drains.

The loopback fake APNs runs in its own process (TLS + HTTP/2, Pass Type ID client certificate
required); its own CPU per push, measured there, gives its ceiling. 1. The bare h2 client
(no database) sends ``--devices`` pushes: this process's CPU per push; the httpx client it
replaced sends ``--baseline`` pushes in the same run. 2. One Worker drains ``--devices`` cards
(one device each). 3. ``--backlog`` more cards are changed at once and the worker (LISTEN/NOTIFY)
drains them while ``--commits`` ledger commits, 20 ms apart, land on cards spread over all of
them: time from each commit to the fake receiving that card's push (``--fresh-batch 0``: the
worker without its fresh lane, the baseline).

    python -m bench.push [--devices 10000] [--backlog 100000] [--fresh-batch 50] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.data import cards_with_devices
from bench.ledger import NOW, scratch_database
from bench.push_clients import h2_client, httpx_client
from tests.fakes.tls import loopback_server_cert
from walletcards.apple.apns import CertificateAuth
from walletcards.apple.certificates import make_dev_chain, write_dev_chain
from walletcards.clients import build_clients
from walletcards.clock import SystemClock
from walletcards.db import Database
from walletcards.loyalty import ledger
from walletcards.loyalty.config import load_program_file, parse_program
from walletcards.loyalty.models import Card
from walletcards.loyalty.programs import apply_program
from walletcards.settings import Secret, Settings
from walletcards.sync.worker import FRESH_BATCH, Worker

ROOT = Path(__file__).resolve().parent.parent
PTID = "pass.com.example.bench"


class FakeProcess:
    def __init__(self, cert: Path, key: Path, client_ca: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.apns", str(cert), str(key), str(client_ca)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.port = int(self.proc.stdout.readline().split()[1])

    def dump(self) -> dict[str, list[float]]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("dump\n")
        self.proc.stdin.flush()
        data: dict[str, list[float]] = json.loads(self.proc.stdout.readline())
        return data

    def cpu(self) -> tuple[float, int]:
        """The fake's CPU seconds so far and the requests it has answered."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("cpu\n")
        self.proc.stdin.flush()
        seconds, answered = json.loads(self.proc.stdout.readline())
        return float(seconds), int(answered)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)


def commit(db: Database, card_id: int, n: int) -> None:
    now = SystemClock().now()
    with db.transaction() as session:
        ledger.credit(
            session,
            ledger.lock_card(session, card_id),
            kind="bonus",
            key=f"bench:{n}",
            points=10,
            cause="bench",
            now=now,
            available_at=now,
            expires_at=now + timedelta(days=30),
            max_points=1000,
        )


def behind(db: Database) -> int:
    with db.transaction() as session:
        query = select(func.count()).where(Card.version > Card.pushed_version)
        return int(session.execute(query).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=3_000, help="pushes by the httpx client")
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1000, help="the worker's cards per batch")
    parser.add_argument(
        "--fresh-batch",
        type=int,
        default=FRESH_BATCH,
        help="the fresh lane's cards per claim while a batch is in flight (0: no fresh lane)",
    )
    parser.add_argument("--quick", action="store_true", help="2,000 devices, 10,000 backlog")
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    if args.quick:
        args.devices, args.baseline, args.backlog = 2_000, 1_000, 10_000
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp, scratch_database("postgresql", args.postgres) as db:
        folder = Path(tmp)
        ca, cert, key = loopback_server_cert(folder)
        chain = make_dev_chain(PTID, "ABCDE12345", datetime.now(UTC))
        write_dev_chain(chain, folder / "pass", None)
        client_ca = folder / "client-ca.pem"
        client_ca.write_bytes(
            (folder / "pass/wwdr.pem").read_bytes() + (folder / "pass/root.pem").read_bytes()
        )
        auth = CertificateAuth(str(folder / "pass/pass.pem"), str(folder / "pass/pass.key"), None)
        fake = FakeProcess(cert, key, client_ca)
        document: dict[str, Any] = dict(load_program_file(ROOT / "examples/demo.toml").document)
        document["apple"] = {
            **document["apple"],
            "pass_type_identifier": PTID,
            "certificate": auth.certificate,
            "private_key": auth.private_key,
            "wwdr_certificate": str(folder / "pass/wwdr.pem"),
        }
        document.pop("webhooks", None)
        document["apple"].pop("private_key_password", None)
        with db.transaction() as session:
            program, _ = apply_program(session, parse_program(document), NOW)
            token_of = cards_with_devices(session, program.id, args.devices, NOW)
        url = f"https://127.0.0.1:{fake.port}"
        settings = Settings(
            database_url=db.url,
            public_url="https://cards.example.com",
            secret_key=Secret("bench-secret-key-0123456789"),
            apns_url=url,
            apns_ca_file=str(ca),
        )
        try:
            # 1. The clients alone, and the fake's own CPU per push.
            before = fake.cpu()
            wall, cpu = h2_client(url, ca, auth, PTID, args.devices)
            after = fake.cpu()
            fake_cpu = (after[0] - before[0]) / (after[1] - before[1])
            old_wall, old_cpu = httpx_client(url, ca, auth, PTID, args.baseline)
            fake.dump()
            rows.append(
                (
                    f"httpx client (baseline), {args.baseline} pushes",
                    f"{old_cpu / args.baseline * 1000:.3f}",
                    f"{args.baseline / old_wall:,.0f}",
                )
            )
            rows.append(
                (
                    f"h2 client, {args.devices} pushes",
                    f"{cpu / args.devices * 1000:.3f}",
                    f"{args.devices / wall:,.0f}",
                )
            )
            rows.append(
                (
                    "fake APNs (own process), its ceiling",
                    f"{fake_cpu * 1000:.3f}",
                    f"{1 / fake_cpu:,.0f}",
                )
            )

            # 2. One worker drains the changed cards.
            clients = build_clients(settings)
            worker = Worker(db, clients, settings, batch=args.batch)
            worker.fresh_batch = args.fresh_batch
            start, started_cpu = time.perf_counter(), time.process_time()
            report = worker.drain()
            elapsed, used = time.perf_counter() - start, time.process_time() - started_cpu
            assert report.pushed == args.devices, report
            fake.dump()
            rows.append(
                (
                    f"one worker draining {args.devices} cards (claim + push + record)",
                    f"{used / args.devices * 1000:.3f}",
                    f"{args.devices / elapsed:,.0f}",
                )
            )

            # 3. A backlog drains while single commits land on cards across all of them.
            with db.transaction() as session:
                more = cards_with_devices(session, program.id, args.backlog, NOW, args.devices)
            token_of.update(more)
            backlog = list(more)
            cards = list(token_of) + backlog
            stop = threading.Event()
            thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"poll": 5.0})
            drain_start = time.time()
            thread.start()
            committed: dict[int, float] = {}
            for n in range(args.commits):
                card_id = cards[(n * 7919) % len(cards)]
                commit(db, card_id, n)
                committed[card_id] = time.time()
                time.sleep(0.02)
            deadline = time.monotonic() + 900
            while behind(db) and time.monotonic() < deadline:
                time.sleep(0.5)
            stop.set()
            thread.join(15)
            clients.close()
            received = fake.dump()
        finally:
            fake.close()
    backlog_done = max(max(received[token_of[c]]) for c in backlog)
    latencies = [
        min(t for t in received.get(token_of[card], []) if t >= at) - at
        for card, at in committed.items()
        if any(t >= at for t in received.get(token_of[card], []))
    ]
    q = statistics.quantiles(latencies, n=100)
    print(
        f"push benchmark: {args.devices} devices, worker batches of {args.batch}, fresh lane "
        f"{args.fresh_batch or 'off'}, PostgreSQL, fake APNs in its own process"
    )
    print("| measure | client CPU ms per push | pushes/s |")
    print("|---|---:|---:|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
    print(
        f"| {args.backlog}-card backlog drained by the running worker | | "
        f"{args.backlog / (backlog_done - drain_start):,.0f} |"
    )
    print(
        f"commit -> push received while the backlog drains, p50 / p95 / max ms "
        f"({len(latencies)} of {len(committed)} commits): {q[49] * 1000:.0f} / "
        f"{q[94] * 1000:.0f} / {max(latencies) * 1000:.0f}"
    )


if __name__ == "__main__":
    main()
