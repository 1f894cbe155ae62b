"""Data rights tests: a programme issuing Apple passes (the loopback APNs) and Google objects
(in memory), sending card emails and CRM events (in memory), and a member with a history in
every table that can name them."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

import walletcards
from tests.fakes.memory import MemoryEvents, MemoryGoogle, MemoryMailer
from tests.kit.apple import PTID
from tests.kit.passes import release_holds
from tests.kit.programs import MakeProgram
from tests.kit.staff import make_staff
from tests.kit.web import SECRET_KEY, json_of
from tests.kit.webhooks import ORDERS_SECRET, post_orders
from walletcards.clients import Clients, build_clients
from walletcards.clock import FixedClock
from walletcards.codes import card_code
from walletcards.db import Database
from walletcards.loyalty.members import set_marketing_consent
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.settings import Settings
from walletcards.sync.worker import Worker

ISSUER = "3388000000012345678"
NAME = "Zelda Quimby"
EMAIL = "zelda.quimby@example.org"
PHONE = "+44 7700 900123"
DIGITS = "447700900123"
SHOP_ID = "cust-zq-4411"
EXTERNAL_ID = f"orders:customer:{SHOP_ID}"
PERSONAL = (NAME, EMAIL, PHONE, DIGITS, EXTERNAL_ID, SHOP_ID)
DEVICE = "d3v1c3l1br4ry1d0000000000000001"
PUSH_TOKEN = "ab" * 32


def import_every_model() -> None:
    """Every module of the package that declares a table (a new one too, wherever it is)."""
    root = Path(walletcards.__file__).parent
    for info in pkgutil.walk_packages([str(root)], "walletcards."):
        if ".migrations" in info.name or info.ispkg:
            continue
        path = root.joinpath(*info.name.split(".")[1:]).with_suffix(".py")
        if "__tablename__" in path.read_text(encoding="utf-8"):
            importlib.import_module(info.name)


@pytest.fixture
def program(make_program: MakeProgram, apple_table: dict[str, str]) -> Program:
    return make_program(
        apple=apple_table,
        google={"issuer_id": ISSUER, "service_account_file": "/nonexistent/account.json"},
        webhooks={"orders_secret": ORDERS_SECRET},
        events=[{"url": "https://crm.example.com/hooks", "secret": "whsec_events_0123456789"}],
    )


@pytest.fixture
def settings(apns_settings: Settings) -> Settings:
    return apns_settings


@pytest.fixture
def clients(settings: Settings, clock: FixedClock) -> Iterator[Clients]:
    """The real APNs client (loopback APNs); Google, SMTP and the CRM in memory."""
    real = build_clients(settings, clock)
    memory = dataclasses.replace(
        real, google=MemoryGoogle(), mailer=MemoryMailer(), events=MemoryEvents()
    )
    with memory as made:
        yield made


@pytest.fixture
def worker(database: Database, clients: Clients, settings: Settings) -> Worker:
    return Worker(database, clients, settings)


@pytest.fixture
def admin(database: Database, program: Program) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_staff(database, 'owner@example.com', 'admin')}"}


def order(order_id: str, clock: FixedClock, kind: str = "order.paid", **extra: Any) -> Any:
    return {
        "id": f"evt-{order_id}-{kind}",
        "type": kind,
        "order": {
            "id": order_id,
            "currency": "USD",
            "paid_at": clock.now().isoformat(),
            "lines": [{"amount": "50.00", "sku": "BEANS"}],
        },
        "customer": {
            "id": SHOP_ID,
            "email": EMAIL.upper(),  # the shop's spelling; stored lower-cased
            "phone": PHONE,
            "name": NAME,
            "birthday": "1990-04-02",
            "locale": "en",
        },
        **extra,
    }


@dataclass(frozen=True)
class Member:
    customer_id: int
    card_id: int
    member_number: str
    serial: str
    auth_token: str
    public_token: str


def write(client: FlaskClient, path: str, body: Any, headers: dict[str, str]) -> Any:
    response = client.post(
        path, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert response.status_code in (200, 201), response.get_data()[:300]
    return json_of(response)


@pytest.fixture
def member(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    worker: Worker,
    manager: dict[str, str],
    cashier: dict[str, str],
) -> Member:
    """A member with two orders (one partly refunded), a till purchase, a manual adjustment
    and an online code whose memo and reference name them, marketing consent, an Apple device,
    a Google object, a card email sent and CRM events delivered."""
    at = int(clock.now().timestamp())
    assert post_orders(client, order("R-1", clock), at=at).status_code == 200
    assert post_orders(client, order("R-2", clock), at=at).status_code == 200
    refund = order("R-2", clock, "order.refunded", refund={"id": "rf-1", "amount": "10.00"})
    assert post_orders(client, refund, at=at).status_code == 200
    with database.transaction() as session:
        card = session.execute(select(Card)).scalar_one()
        customer = session.get(Customer, card.customer_id)
        assert customer is not None
        set_marketing_consent(session, customer, True, clock.now(), "join", "1")
        found = Member(
            customer.id,
            card.id,
            card.member_number,
            card.serial,
            card.auth_token,
            card.public_token,
        )
    registered = client.post(
        f"/passkit/v1/devices/{DEVICE}/registrations/{PTID}/{found.serial}",
        json={"pushToken": PUSH_TOKEN},
        headers={"Authorization": f"ApplePass {found.auth_token}"},
    )
    assert registered.status_code == 201
    clock.advance(timedelta(days=15))
    release_holds(database, clock.now())
    code = card_code(SECRET_KEY, "demo", found.member_number)
    write(client, "/api/v1/cashier/earn", {"code": code, "amount": "12.00"}, cashier)
    base = f"/api/v1/programs/demo/cards/{found.member_number}"
    write(client, f"{base}/adjustments", {"points": 25, "reason": f"sorry, {NAME}"}, manager)
    reservation = {
        "customer": {"member_number": found.member_number},
        "points": 200,
        "channel": "api",
        "reference": f"cart of {EMAIL}",
    }
    write(client, "/api/v1/programs/demo/redemptions", reservation, manager)
    worker.drain()
    assert worker.deliver_outbox() > 0
    return found
