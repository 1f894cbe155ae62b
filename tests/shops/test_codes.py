"""Codes in the shop for reservations (shops/codes.py) with the in-memory shop: created after
the reservation commits, retried while the shop is unavailable, and a shop that refuses gives
a 502 with nothing reserved in the end; a release deletes the code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.admin.test_api import number
from tests.admin.test_redemptions_api import BASE, reserve
from tests.customer.test_redeem_page import reserve as reserve_on_page
from tests.fakes.memory import MemoryClients, memory_clients
from tests.kit.programs import reload_card
from tests.kit.webhooks import PUBLIC_URL
from tests.loyalty.test_ledger import give
from walletcards import create_app
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.redemption_models import Redemption
from walletcards.loyalty.verify import verify
from walletcards.settings import Secret, Settings
from walletcards.shops import codes


@pytest.fixture
def program(apple_program: Program) -> Program:
    return apple_program


@pytest.fixture
def memory(clock: FixedClock) -> MemoryClients:
    return memory_clients(clock)


@pytest.fixture
def app(  # the orders kit's app, with the in-memory shops
    database: Database, clock: FixedClock, tmp_path: Path, memory: MemoryClients
) -> Iterator[Flask]:
    settings = Settings(
        database_url=database.url,
        public_url=PUBLIC_URL,
        secret_key=Secret("test-secret-key-0123456789"),
        instance_path=tmp_path,
    )
    app = create_app(settings, memory.clients)
    yield app
    app.extensions["walletcards.db"].dispose()


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(codes, "wait", waited.append)
    return waited


def state(database: Database) -> tuple[int, list[tuple[str, str, str | None]]]:
    """(the card's available points, [(status, shop_state, released_cause)])."""
    with database.transaction() as session:
        card = session.execute(select(Card)).scalar_one()
        rows = session.execute(
            select(Redemption.status, Redemption.shop_state, Redemption.released_cause)
        ).all()
        assert verify(session) == []
        return card.available, [tuple(row) for row in rows]


def shop_reserve(client: FlaskClient, headers: dict[str, str], member: str, key: str) -> Any:
    return reserve(client, headers, member, key=key, channel="shopify")


def test_the_code_is_created_in_the_shop(
    client: FlaskClient,
    integration: dict[str, str],
    card_code: str,
    database: Database,
    memory: MemoryClients,
) -> None:
    shop = memory.shops.add("demo", "shopify")
    made = shop_reserve(client, integration, number(card_code), "k-1")
    assert made.status_code == 201, made.json
    (code,) = shop.codes.values()
    assert code.code == made.json["redemption"]["code"]
    assert (code.amount, code.currency, code.email) == ("2.00", "USD", "cust-1@example.com")
    assert code.expires_at.isoformat() == made.json["redemption"]["expires_at"]
    assert state(database) == (350, [("reserved", "live", None)])
    with database.transaction() as session:
        assert session.execute(select(Redemption.shop_code_id)).scalar_one() == code.id

    url = f"{BASE}/{made.json['redemption']['id']}/release"
    released = client.post(url, json={}, headers={**integration, "Idempotency-Key": "k-2"})
    assert released.status_code == 200, released.json
    assert shop.codes == {} and shop.calls == ["create_code", "delete_code"]
    assert state(database) == (550, [("released", "deleted", "api")])


def test_an_unavailable_shop_is_retried(
    client: FlaskClient,
    integration: dict[str, str],
    card_code: str,
    database: Database,
    memory: MemoryClients,
    no_waits: list[float],
) -> None:
    shop = memory.shops.add("demo", "shopify")
    shop.fail_next("create_code", times=2)
    made = shop_reserve(client, integration, number(card_code), "k-1")
    assert made.status_code == 201, made.json
    assert shop.calls == ["create_code"] * 3 and len(no_waits) == 2
    assert state(database) == (350, [("reserved", "live", None)])


@pytest.mark.parametrize("unavailable", [False, True])
def test_a_refusing_shop_answers_502_and_nothing_stays_reserved(
    client: FlaskClient,
    integration: dict[str, str],
    card_code: str,
    database: Database,
    memory: MemoryClients,
    unavailable: bool,
) -> None:
    shop = memory.shops.add("demo", "shopify")
    if unavailable:
        shop.fail_next("create_code", times=codes.ATTEMPTS)
    else:
        shop.refuse_next("create_code", "Code must be unique", "TAKEN")
    before = state(database)[0]
    refused = shop_reserve(client, integration, number(card_code), "k-1")
    assert refused.status_code == 502, refused.json
    assert refused.json["error"]["code"] == "shop_refused"
    assert ("unavailable" if unavailable else "Code must be unique") in refused.json["error"][
        "message"
    ]
    assert shop.codes == {}
    assert state(database) == (before, [("released", "failed", "shop_refused")])
    again = shop_reserve(client, integration, number(card_code), "k-1")  # the same answer
    assert (again.status_code, again.json) == (502, refused.json)
    assert state(database)[0] == before


def test_a_programme_without_the_shop_refuses_the_channel(
    client: FlaskClient,
    integration: dict[str, str],
    card_code: str,
    database: Database,
) -> None:
    refused = shop_reserve(client, integration, number(card_code), "k-1")
    assert refused.status_code == 502
    assert "[shopify]" in refused.json["error"]["message"]
    assert state(database) == (550, [("released", "failed", "shop_refused")])


def test_channel_api_calls_no_shop(
    client: FlaskClient,
    integration: dict[str, str],
    card_code: str,
    database: Database,
    memory: MemoryClients,
) -> None:
    shop = memory.shops.add("demo", "shopify")
    assert reserve(client, integration, number(card_code), key="k-1").status_code == 201
    assert shop.calls == []
    assert state(database) == (350, [("reserved", "none", None)])


def test_card_channel_uses_the_configured_shop(
    program: Program,
    make_program: Any,
) -> None:
    assert codes.platform_for(program, "card") is None
    assert codes.platform_for(program, "api") is None
    assert codes.platform_for(program, "woocommerce") == "woocommerce"
    shop = make_program(
        webhooks={"shopify_shop_domain": "demo.myshopify.com", "shopify_secret": "x" * 20},
        shopify={"admin_token": "shpat_x"},
    )
    assert codes.platform_for(shop, "card") == "shopify"
    assert codes.customer_ref(shop, "shopify", "shopify:demo.myshopify.com:customer:42") == "42"
    assert codes.customer_ref(shop, "shopify", "orders:customer:42") is None
    assert codes.customer_ref(shop, "shopify", None) is None


def test_the_card_page_says_so_when_the_shop_refuses_the_code(
    client: FlaskClient,
    make_program: Any,
    make_card: Any,
    database: Database,
    clock: FixedClock,
    memory: MemoryClients,
) -> None:
    shop_programme = make_program(
        webhooks={"shopify_shop_domain": "demo.myshopify.com", "shopify_secret": "x" * 20},
        shopify={"admin_token": "shpat_x"},
    )
    card = make_card(shop_programme, email="bo@example.com")
    give(database, card, clock, 1500, "g")
    memory.shops.add("demo", "shopify").refuse_next("create_code", "Code must be unique", "TAKEN")
    answer = reserve_on_page(client, card, 500)
    assert answer.status_code == 502
    assert "could not make your code" in answer.get_data(as_text=True)
    with database.transaction() as session:
        assert reload_card(session, card.id).available == 1500
        found = session.execute(select(Redemption.status, Redemption.released_cause)).one()
        assert tuple(found) == ("released", "shop_refused")
        assert verify(session) == []
