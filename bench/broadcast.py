"""A message to every card of a programme (PostgreSQL): enqueue, push, and the storm of pass GETs.

N cards (customers with marketing consent, one registered Apple device each) are generated in
SQL. Then, each against a baseline measured in the same run:

1. enqueue: the message created through the domain function (messages/service.py ``create``)
   and the sending step (messages/sending.py ``send_due``, the scheduled job's step) run until
   done, vs one ``UPDATE cards SET version = version + 1 WHERE program_id = …`` (target <= 2x);
2. pushes/s: one Worker drains a slice of those cards against the loopback fake APNs
   (bench/push.py's fake and certificates), vs the bare APNs client sending as many pushes
   with no database; the process's RSS before and after the worker's drain (flat);
3. the storm: every phone GETs its new pass from the PassKit web service through gunicorn (one
   RSA signature each, and the fetch recorded as the message's proof), vs the raw RSA-2048 sign
   rate x CPU cores (target >= 0.6); then the same GETs from phones whose copy is current
   (If-Modified-Since: 304s); gunicorn workers' RSS before and after (flat). The serving half
   lives in bench/broadcast_storm.py.

    python -m bench.broadcast [--cards N] [--push N] [--passes N] [--batch N] [--enqueue-only]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from bench.broadcast_storm import AUTH, own_rss_mb, rsa_rate, rss_mb, serve, storm
from bench.ledger import ROOT, scratch_database
from bench.push import PTID, FakeProcess
from tests.fakes.tls import loopback_server_cert
from walletcards.apple.apns import ApnsClient, CertificateAuth
from walletcards.apple.certificates import DevChain, make_dev_chain, write_dev_chain
from walletcards.clients import build_clients
from walletcards.db import Database
from walletcards.loyalty.config import load_program_file, parse_program
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import apply_program
from walletcards.messages import service
from walletcards.messages.inputs import MessageInput
from walletcards.messages.models import Message
from walletcards.messages.sending import BATCH, send_due
from walletcards.settings import Secret, Settings
from walletcards.sync.worker import Worker

# noon in the demo programme's time zone (America/New_York): outside the quiet hours
SEND_AT = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def generate(database: Database, program_id: int, cards: int) -> int:
    """Customers (marketing consent), cards, one Apple registration each; returns the first
    card id (the cards' ids are consecutive)."""
    params = {"p": program_id, "n": cards, "at": SEND_AT, "auth": AUTH}
    with database.engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(
            text(
                "INSERT INTO customers (program_id, external_id, email, marketing_consent, "
                "marketing_consent_at, created_at) "
                "SELECT :p, 'gen-' || g, 'gen' || g || '@example.com', true, :at, :at "
                "FROM generate_series(1, :n) g"
            ),
            params,
        )
        conn.execute(
            text(
                "INSERT INTO cards (program_id, customer_id, serial, public_token, auth_token, "
                "qr_secret, member_number, available, pending, debt, paid_orders, tier_code, "
                "version, pushed_version, push_attempts, created_at, updated_at) "
                "SELECT :p, c.id, 'gen-s-' || c.id, 'gen-t-' || c.id, :auth, 'q', "
                "'9' || lpad(c.id::text, 11, '0'), c.id % 500, 0, 0, 2, NULL, 2, 2, 0, :at, :at "
                "FROM customers c WHERE c.program_id = :p ORDER BY c.id"
            ),
            params,
        )
        conn.execute(
            text(
                "INSERT INTO apple_registrations (card_id, device_library_id, push_token, "
                "created_at, updated_at) "
                "SELECT id, 'device' || id, lpad(to_hex(id), 64, '0'), :at, :at "
                "FROM cards WHERE program_id = :p"
            ),
            params,
        )
        first = conn.execute(
            text("SELECT min(id) FROM cards WHERE program_id = :p"), params
        ).scalar_one()
    vacuum(database)
    return int(first)


def vacuum(database: Database) -> None:
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def update_all(database: Database, program_id: int) -> float:
    """The baseline: one UPDATE of every card's version, committed; seconds."""
    t0 = time.perf_counter()
    with database.engine.begin() as conn:
        conn.execute(
            text("UPDATE cards SET version = version + 1 WHERE program_id = :p"), {"p": program_id}
        )
    return time.perf_counter() - t0


def enqueue(database: Database, program_id: int, batch: int) -> tuple[int, float, int, list[float]]:
    """Create the message to everyone and send it; (message id, seconds, recipient rows, each
    batch's recipient statement in seconds: the cards' row locks are held that long, plus the
    commit)."""
    batches: list[float] = []
    others: list[float] = []  # every other statement of the sending (the commits are not)
    started: list[float] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        took = time.perf_counter() - started.pop()
        if "INSERT INTO message_recipients" in statement:
            batches.append(took)
        else:
            others.append(took)

    t0 = time.perf_counter()
    with database.transaction() as session:
        program = session.get(Program, program_id)
        assert program is not None
        given = MessageInput(
            text={"en": "Double points all weekend"},
            link="https://shop.example.com/weekend",
            kind="marketing",
            audience={"all": True},
            send_at=SEND_AT,
            expires_at=None,
            channels=["wallet"],
        )
        message_id = service.create(session, program, given, SEND_AT).id
    event.listen(database.engine, "before_cursor_execute", before)
    event.listen(database.engine, "after_cursor_execute", after)
    try:
        added = send_due(database, SEND_AT, batch)
    finally:
        event.remove(database.engine, "before_cursor_execute", before)
        event.remove(database.engine, "after_cursor_execute", after)
    print(
        f"sending: recipient statements {sum(batches):.1f} s, other statements "
        f"{sum(others):.1f} s ({len(others)})"
    )
    return message_id, time.perf_counter() - t0, added, batches


def figures(database: Database, message_id: int) -> dict[str, Any]:
    with database.transaction() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return service.figures(session, message)


def certificates(folder: Path) -> tuple[DevChain, FakeProcess, Path]:
    """The Pass Type ID chain and the fake APNs in its own process (as bench/push.py)."""
    ca, cert, key = loopback_server_cert(folder)
    chain = make_dev_chain(PTID, "ABCDE12345", datetime.now(UTC))
    write_dev_chain(chain, folder / "pass", None)
    client_ca = folder / "client-ca.pem"
    client_ca.write_bytes(
        (folder / "pass/wwdr.pem").read_bytes() + (folder / "pass/root.pem").read_bytes()
    )
    return chain, FakeProcess(cert, key, client_ca), ca


def program_document(folder: Path) -> dict[str, Any]:
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
    return document


def pushes(
    database: Database, settings: Settings, folder: Path, program_id: int, first: int, count: int
) -> tuple[float, float, tuple[float, float]]:
    """(bare client pushes/s, one worker's pushes/s, the process's RSS before / after the
    worker's drain) for ``count`` of the message's cards (the rest are marked pushed first,
    outside the timing)."""
    with database.engine.begin() as conn:
        conn.execute(
            text("UPDATE cards SET pushed_version = version WHERE program_id = :p AND id >= :f"),
            {"p": program_id, "f": first + count},
        )

    async def bare() -> float:
        auth = CertificateAuth(str(folder / "pass/pass.pem"), str(folder / "pass/pass.key"), None)
        client = ApnsClient(settings.apns_url, auth, settings.apns_ca_file)
        tokens = [f"{i:064x}" for i in range(count)]
        await client.push_many(tokens[:100], PTID)  # connect, warm up
        start = time.perf_counter()
        for i in range(0, len(tokens), 1000):
            await client.push_many(tokens[i : i + 1000], PTID)
        elapsed = time.perf_counter() - start
        await client.aclose()
        return elapsed

    bare_rate = count / asyncio.run(bare())
    clients = build_clients(settings)
    try:
        worker = Worker(database, clients, settings, batch=1000)
        before = own_rss_mb()
        start = time.perf_counter()
        report = worker.drain()
        elapsed = time.perf_counter() - start
        after = own_rss_mb()
    finally:
        clients.close()
    assert report.pushed == count, report
    return bare_rate, count / elapsed, (before, after)


def cards_versions(database: Database, program_id: int) -> dict[int, int]:
    with database.engine.begin() as conn:
        rows = conn.execute(
            text("SELECT version, count(*) FROM cards WHERE program_id = :p GROUP BY version"),
            {"p": program_id},
        ).all()
    return {int(version): int(count) for version, count in rows}


def print_enqueue(
    cards: int,
    generated: float,
    cores: int,
    added: int,
    enqueued: float,
    baseline: float,
    batches: list[float],
) -> None:
    print(
        f"broadcast benchmark: {cards:,} cards (generated in {generated:.0f} s), PostgreSQL, "
        f"{cores} cores; one message to all, marketing, every customer consenting"
    )
    print("| step | measured | baseline (same run) | ratio | target |")
    print("|---|---:|---:|---:|---|")
    print(
        f"| enqueue: create + sending step to {cards:,} cards ({added:,} recipient rows, "
        f"{len(batches)} batches, each batch's statement median / max "
        f"{statistics.median(batches):.2f} / {max(batches):.2f} s) "
        f"| {enqueued:.2f} s | one UPDATE of those cards' version: {baseline:.2f} s "
        f"| {enqueued / baseline:.2f}x | <= 2x |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--push", type=int, default=5000, help="cards pushed by the worker")
    parser.add_argument("--passes", type=int, default=2000, help="pass GETs in the storm")
    parser.add_argument("--batch", type=int, default=BATCH, help="cards per sending batch")
    parser.add_argument("--enqueue-only", action="store_true", help="skip the push and storm")
    parser.add_argument("--clients", type=int, default=8, help="concurrent phones in the storm")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    push_count, passes = min(args.push, args.cards), min(args.passes, args.cards)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp, scratch_database("postgresql", args.postgres) as db:
        folder = Path(tmp)
        chain, fake, ca = certificates(folder)
        try:
            with db.transaction() as session:
                config = parse_program(program_document(folder))
                program, _ = apply_program(session, config, SEND_AT)
                program_id = program.id
            t0 = time.perf_counter()
            first = generate(db, program_id, args.cards)
            generated = time.perf_counter() - t0
            baseline = update_all(db, program_id)
            vacuum(db)  # the message starts from the same clean table as the baseline did
            message_id, enqueued, added, batches = enqueue(db, program_id, args.batch)
            sent = figures(db, message_id)
            assert added == args.cards and sent["cards"] == args.cards, (added, sent)
            versions = cards_versions(db, program_id)
            assert versions == {4: args.cards}, versions  # 2, the baseline's +1, the message's +1
            if args.enqueue_only:
                print_enqueue(args.cards, generated, cores, added, enqueued, baseline, batches)
                return
            settings = Settings(
                database_url=db.url,
                public_url="https://cards.example.com",
                secret_key=Secret("bench-secret-key-0123456789"),
                apns_url=f"https://127.0.0.1:{fake.port}",
                apns_ca_file=str(ca),
            )
            bare_rate, worker_rate, worker_rss = pushes(
                db, settings, folder, program_id, first, push_count
            )
            pushed = figures(db, message_id)["pushed"]
        finally:
            fake.close()
        sign_rate = rsa_rate(chain)
        server, port = serve(db, args.workers, args.threads)
        try:
            serials = [f"gen-s-{first + i}" for i in range(args.cards)]
            warm = serials[-args.clients * 5 :]
            storm(port, warm, args.clients)  # every worker warmed up (not counted below)
            rss_before = rss_mb(server)
            elapsed, lat, size = storm(port, serials[:passes], args.clients)
            rss_after = rss_mb(server)
            now = format_datetime(datetime.now(UTC), usegmt=True)
            current, lat304, _ = storm(port, serials[:passes], args.clients, since=now)
        finally:
            server.terminate()
            server.wait(timeout=30)
        fetched = figures(db, message_id)["fetched_by_phone"] - len(
            set(warm) - set(serials[:passes])
        )
    served = passes / elapsed
    ceiling = sign_rate * cores
    q = statistics.quantiles(lat, n=100)
    print_enqueue(args.cards, generated, cores, added, enqueued, baseline, batches)
    print(
        f"| push: one worker, {push_count:,} of the message's cards, fake APNs "
        f"| {worker_rate:,.0f} /s | bare APNs client: {bare_rate:,.0f} /s "
        f"| {worker_rate / bare_rate:.2f} | |"
    )
    print(
        f"| storm: pass GETs via gunicorn {args.workers}x{args.threads}, {args.clients} phones, "
        f"{passes:,} passes ({size / passes / 1024:.0f} KB each), p50 / p99 "
        f"{q[49] * 1000:.0f} / {q[98] * 1000:.0f} ms "
        f"| {served:,.0f} /s | raw RSA-2048 {sign_rate:,.0f} /s x {cores} cores "
        f"= {ceiling:,.0f} /s "
        f"| {served / ceiling:.2f} | >= 0.6 |"
    )
    q304 = statistics.quantiles(lat304, n=100)
    print(
        f"| the same GETs from phones whose copy is current (If-Modified-Since: 304), "
        f"p50 / p99 {q304[49] * 1000:.0f} / {q304[98] * 1000:.0f} ms "
        f"| {passes / current:,.0f} /s | | {passes / current / ceiling:.2f} | |"
    )
    print(
        f"| the pushing worker's process RSS before / after its {push_count:,} pushes "
        f"| {worker_rss[0]:.0f} MB / {worker_rss[1]:.0f} MB | | "
        f"{worker_rss[1] / worker_rss[0]:.2f} | flat |"
    )
    print(
        f"| gunicorn workers' RSS before / after the storm | "
        f"{' + '.join(f'{m:.0f}' for m in rss_before)} MB / "
        f"{' + '.join(f'{m:.0f}' for m in rss_after)} MB | | "
        f"{sum(rss_after) / sum(rss_before):.2f} | flat |"
    )
    print(
        f"proof: {pushed:,} recipients pushed (the worker's slice), {fetched:,} fetched by the "
        f"phone (the storm's GETs)"
    )


if __name__ == "__main__":
    main()
