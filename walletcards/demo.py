"""`walletcards demo`: a real card within a minute of `make run`.

Makes the dev certificates if missing, migrates, applies examples/demo.toml if needed, sends a
signed paid order for a sample customer (to a running service, or to an in-process app), then
writes that customer's pass and prints where to look.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from walletcards import create_app, migrate
from walletcards.apple.certificates import make_dev_chain, write_dev_chain
from walletcards.apple.passes import render_pass
from walletcards.clock import SystemClock
from walletcards.db import Database
from walletcards.loyalty.config import load_program_file
from walletcards.loyalty.config_tables import reveal
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import apply_program, program_config
from walletcards.orders.signatures import timestamped_header
from walletcards.settings import Settings

DEMO_FILE = Path("examples/demo.toml")


class DemoError(RuntimeError):
    """The demo could not issue its card; the message says what to do."""


# Development-only webhook secrets, the same ones `make run` exports (never for production).
DEV_SECRETS = {
    "DEMO_SHOPIFY_SECRET": "dev-only-shopify-secret",
    "DEMO_WOO_SECRET": "dev-only-woocommerce-secret",
    "DEMO_ORDERS_SECRET": "dev-only-orders-secret",
}


def _order(now: float) -> dict[str, Any]:
    order_id = f"DEMO-{uuid.uuid4().hex[:8].upper()}"
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "order.paid",
        "order": {
            "id": order_id,
            "currency": "USD",
            "paid_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "lines": [
                {"amount": "24.50", "sku": "HOUSE-BLEND", "brand": "Demo Roasters"},
                {"amount": "12.00", "sku": "MUG-01"},
            ],
        },
        "customer": {
            "id": "demo-customer-1",
            "email": "ann@example.com",
            "name": "Ann Example",
            "locale": "en",
        },
    }


def run(settings: Settings, url: str | None) -> tuple[str, Path]:
    """Returns (card page URL, path of the written .pkpass)."""
    for name, value in DEV_SECRETS.items():
        os.environ.setdefault(name, value)
    with Database(settings.database_url) as database:
        migrate.upgrade(database)
        with database.transaction() as session:
            program = session.execute(
                select(Program).where(Program.slug == "demo")
            ).scalar_one_or_none()
            if program is None:
                program, _ = apply_program(
                    session, load_program_file(DEMO_FILE), SystemClock().now()
                )
            config = program_config(program)  # its env: secrets: the variables set above
    if not Path("certs/dev/pass.pem").exists():
        chain = make_dev_chain("pass.com.example.demo", "ABCDE12345", SystemClock().now())
        write_dev_chain(chain, Path("certs/dev"), config.apple.password() if config.apple else None)
    now = time.time()
    body = json.dumps(_order(now)).encode()
    timestamp = int(now)
    secret = config.webhooks.source("orders").secret
    signature = timestamped_header(reveal(secret) or "", timestamp, body)
    headers = {"Content-Type": "application/json", "Walletcards-Signature": signature}
    answer = _send(url, body, headers, settings)
    card_url = answer["card"]["url"]
    token = card_url.rsplit("/", 1)[-1]
    with Database(settings.database_url) as database, database.transaction() as session:
        card = session.execute(select(Card).where(Card.public_token == token)).scalar_one()
        program = session.get(Program, card.program_id)
        assert program is not None
        data = b"".join(
            render_pass(
                session,
                program,
                card,
                settings.public_url,
                settings.secret_key.reveal(),
                SystemClock().now(),
            )
        )
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    path = settings.instance_path / "demo-card.pkpass"
    path.write_bytes(data)
    return card_url, path


def _send(
    url: str | None, body: bytes, headers: dict[str, str], settings: Settings
) -> dict[str, Any]:
    target = "/webhooks/demo/orders"
    if url:
        if not url.startswith(("http://", "https://")):
            raise DemoError("--url must be an http(s) URL")
        request = urllib.request.Request(url.rstrip("/") + target, data=body, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise DemoError(f"{url} refused the demo order ({exc.code}): {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DemoError(
                f"nothing answers at {url} ({reason}): start `make run` first "
                "(or `walletcards serve`), then run the demo again"
            ) from exc
    app = create_app(settings)
    try:
        response = app.test_client().post(target, data=body, headers=headers)
        if response.status_code != 200 or response.json is None:
            raise DemoError(f"the demo order was refused: {response.get_data(as_text=True)}")
        result: dict[str, Any] = response.json
        return result
    finally:
        app.extensions["walletcards.db"].dispose()
