"""Pushes per second from one worker, and latency from ledger commit to push received.

10,000 cards with one registered device each after a bulk change; one Worker (its APNs client
over HTTP/2 + TLS with the Pass Type ID client certificate) drains them against the loopback
fake APNs running in its own process. Baseline in the same run: the bare APNs client sending
the same number of pushes with no database. Then, with the worker running (LISTEN/NOTIFY),
200 ledger commits spaced 20 ms apart: time from each commit to the push arriving.

    python -m bench.push [--devices N]
"""

from __future__ import annotations

import argparse
import asyncio
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

from bench.data import cards_with_devices
from bench.ledger import NOW, scratch_database
from tests.fakes.tls import loopback_server_cert
from walletcards.apple.apns import ApnsClient, CertificateAuth
from walletcards.apple.certificates import make_dev_chain, write_dev_chain
from walletcards.clients import build_clients
from walletcards.clock import SystemClock
from walletcards.loyalty import ledger
from walletcards.loyalty.config import load_program_file, parse_program
from walletcards.loyalty.programs import apply_program
from walletcards.settings import Secret, Settings
from walletcards.sync.worker import Worker

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

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, scratch_database("postgresql", args.postgres) as db:
        folder = Path(tmp)
        ca, cert, key = loopback_server_cert(folder)
        chain = make_dev_chain(PTID, "ABCDE12345", datetime.now(UTC))
        write_dev_chain(chain, folder / "pass", None)
        client_ca = folder / "client-ca.pem"
        client_ca.write_bytes(
            (folder / "pass/wwdr.pem").read_bytes() + (folder / "pass/root.pem").read_bytes()
        )
        fake = FakeProcess(cert, key, client_ca)
        document: dict[str, Any] = dict(load_program_file(ROOT / "examples/demo.toml").document)
        document["apple"] = {
            **document["apple"],
            "pass_type_identifier": PTID,
            "certificate": str(folder / "pass/pass.pem"),
            "private_key": str(folder / "pass/pass.key"),
            "wwdr_certificate": str(folder / "pass/wwdr.pem"),
        }
        document.pop("webhooks", None)
        document["apple"].pop("private_key_password", None)
        with db.transaction() as session:
            program, _ = apply_program(session, parse_program(document), NOW)
            token_of = cards_with_devices(session, program.id, args.devices, NOW)
        cards = list(token_of)
        settings = Settings(
            database_url=db.url,
            public_url="https://cards.example.com",
            secret_key=Secret("bench-secret-key-0123456789"),
            apns_url=f"https://127.0.0.1:{fake.port}",
            apns_ca_file=str(ca),
        )
        try:
            # Baseline: the bare client, same pushes, no database.
            async def bare() -> float:
                client = ApnsClient(
                    settings.apns_url,
                    CertificateAuth(
                        str(folder / "pass/pass.pem"), str(folder / "pass/pass.key"), None
                    ),
                    str(ca),
                )
                tokens = [f"{i:064x}" for i in range(args.devices)]
                await client.push_many(tokens[:100], PTID)  # connect, warm up
                start = time.perf_counter()
                for i in range(0, len(tokens), 1000):
                    await client.push_many(tokens[i : i + 1000], PTID)
                elapsed = time.perf_counter() - start
                await client.aclose()
                return elapsed

            bare_rate = args.devices / asyncio.run(bare())
            fake.dump()
            clients = build_clients(settings)
            worker = Worker(db, clients, settings, batch=1000)
            start = time.perf_counter()
            report = worker.drain()
            elapsed = time.perf_counter() - start
            assert report.pushed == args.devices, report
            worker_rate = args.devices / elapsed
            fake.dump()

            stop = threading.Event()
            thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"poll": 5.0})
            thread.start()
            time.sleep(1.0)  # LISTEN is up, first jobs run done
            committed: dict[str, float] = {}
            for n in range(args.commits):
                card_id = cards[(n * 7919) % len(cards)]
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
                committed[token_of[card_id]] = time.time()
                time.sleep(0.02)
            time.sleep(3.0)
            stop.set()
            thread.join(15)
            clients.close()
            received = fake.dump()
            latencies = [
                min(t for t in received.get(tok, []) if t >= at) - at
                for tok, at in committed.items()
                if any(t >= at for t in received.get(tok, []))
            ]
        finally:
            fake.close()
    q = statistics.quantiles(latencies, n=100)
    print(f"push benchmark: {args.devices} devices, PostgreSQL, fake APNs in its own process")
    print("| measure | value | vs bare APNs client |")
    print("|---|---:|---:|")
    print(f"| bare APNs client (no database), pushes/s | {bare_rate:,.0f} | 1.00 |")
    print(
        f"| one worker draining {args.devices} cards, pushes/s | {worker_rate:,.0f} | "
        f"{worker_rate / bare_rate:.2f} |"
    )
    print(
        f"| commit -> push received, p50 / p95 / max ms ({len(latencies)} of "
        f"{len(committed)} commits) | {q[49] * 1000:.0f} / {q[94] * 1000:.0f} / "
        f"{max(latencies) * 1000:.0f} | |"
    )


if __name__ == "__main__":
    main()
