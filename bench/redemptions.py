"""Online redemptions: reserve points + create the single-use code in the shop (the real Shopify
Admin GraphQL client over TLS to the loopback fake, which parses and validates every query
against Shopify's published schema), against a baseline measured in the same run: a plain till
redemption (`ledger.redeem`, one transaction) on the same database.

    python -m bench.redemptions [--reservations N] [--postgres URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import ssl
import tempfile
from pathlib import Path

from bench.ledger import NOW, pct, scratch_database, timed
from tests.fakes.shopify_admin import FakeShopify
from tests.fakes.tls import loopback_server_cert
from walletcards.clients import build_clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import ledger, reservations
from walletcards.loyalty.cards import create_customer, issue_card
from walletcards.loyalty.config import load_program_file, parse_program
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import apply_program
from walletcards.settings import Secret, Settings
from walletcards.shops.admin import ShopAdmin
from walletcards.shops.codes import create_shop_code
from walletcards.shops.shopify_admin import ShopifyAdmin

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "shpat_0123456789abcdef0123456789abcdef"  # noqa: S105  (the fake shop's, made up)
SHOP = "bench-shop.myshopify.com"


@dataclasses.dataclass
class OneShop:
    """The programme's shop: one real Shopify client (Clients.shops, as far as codes need)."""

    admin: ShopAdmin

    def for_program(self, program: Program, platform: str | None = None) -> ShopAdmin | None:
        return self.admin

    def close(self) -> None:
        return None


Rates = dict[str, tuple[float, float, float]]


def run(db: Database, count: int, admin: ShopAdmin, cards: int = 50) -> Rates:
    document = dict(load_program_file(ROOT / "examples" / "demo.toml").document)
    document.pop("apple", None)  # no certificates needed here
    document["webhooks"] = {"shopify_secret": "x" * 32, "shopify_shop_domain": SHOP}
    document["shopify"] = {"admin_token": TOKEN}
    with db.transaction() as session:
        program, _ = apply_program(session, parse_program(document), NOW)
        card_ids = []
        for i in range(cards):
            card = issue_card(
                session, program, create_customer(session, program, NOW, email=f"{i}@b"), NOW
            )
            ledger.credit(
                session,
                card,
                kind="bonus",
                key=f"bench-fund:{i}",
                points=10**9,
                cause="bench",
                now=NOW,
                available_at=NOW,
                expires_at=None,
                max_points=10**9,
            )
            card_ids.append(card.id)
    settings = Settings(
        database_url=db.url,
        public_url="https://cards.example.com",
        secret_key=Secret("bench-secret-key-0123456789"),
    )
    clients = dataclasses.replace(build_clients(settings, FixedClock(NOW)), shops=OneShop(admin))

    def till(i: int) -> None:
        with db.transaction() as session:
            card = ledger.lock_card(session, card_ids[i % cards])
            ledger.redeem(session, card, key=f"bench-t:{i}", points=100, cause="bench", now=NOW)

    def online(i: int) -> None:
        with db.transaction() as session:
            card = ledger.lock_card(session, card_ids[i % cards])
            made = reservations.reserve(
                session,
                program,
                card,
                500,
                channel="shopify",
                reference=None,
                actor="bench",
                key=f"bench-o:{i}",
                now=NOW,
            )
            made_id = made.id
        create_shop_code(clients, program, made_id, database=db)  # outside the transaction

    results: Rates = {}
    for name, op in (("till redemption", till), ("reserve + shop code", online)):
        elapsed, lat = timed(count, op)
        results[name] = (count / elapsed, pct(lat, 50), pct(lat, 99))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reservations", type=int, default=500)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake's request log
    kinds = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
    print(f"redemption benchmark: {args.reservations} per row; the shop is the loopback fake")
    print("| database | operation | per second | p50 ms | p99 ms | vs till redemption |")
    print("|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        ca, cert, key = loopback_server_cert(Path(tmp))
        fake = FakeShopify(TOKEN, server_cert=str(cert), server_key=str(key))
        fake.start()
        try:
            trust = ssl.create_default_context(cafile=str(ca))
            admin = ShopifyAdmin(
                SHOP, TOKEN, base_url=fake.url, clock=FixedClock(NOW), verify=trust
            )
            for kind in kinds:
                with scratch_database(kind, args.postgres) as db:
                    results = run(db, args.reservations, admin)
                base = results["till redemption"][0]
                for name, (rate, p50, p99) in results.items():
                    row = f"| {kind} | {name} | {rate:,.0f} | {p50:.2f} | {p99:.2f} |"
                    print(f"{row} {rate / base:.2f} |")
        finally:
            fake.stop()


if __name__ == "__main__":
    main()
