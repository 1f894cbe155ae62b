"""Shop orders attributed by the friend's code, through the inbox (accepted, then applied):
Shopify ``note_attributes`` / ``landing_site``, WooCommerce ``meta_data`` ``walletcards_ref``;
the signed JSON's ``referral_code`` bounded at the edge."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.kit.inbox import Deliver
from tests.kit.programs import MakeCard, MakeProgram
from tests.kit.webhooks import (
    ORDERS_SECRET,
    SHOP,
    SHOPIFY_SECRET,
    WOO_SECRET,
    error_shaped,
    fixture,
    post_orders,
    written,
)
from tests.referrals.test_referrals import REFERRAL, code_of, order, rows
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.referral_models import Referral

PAID = fixture("shopify_order_paid.json")
WOO = fixture("woocommerce_order_processing.json")


@pytest.fixture
def shop(make_program: MakeProgram) -> Program:
    return make_program(
        referral=REFERRAL,
        webhooks={
            "shopify_secret": SHOPIFY_SECRET,
            "shopify_shop_domain": SHOP,
            "woocommerce_secret": WOO_SECRET,
            "woocommerce_site_url": "https://shop.example.com",
            "orders_secret": ORDERS_SECRET,
        },
    )


def friend_of(database: Database) -> int:
    with database.transaction() as session:
        row = session.execute(select(Referral)).scalar_one()
        assert row.status == "pending"
        return row.referrer_card_id


def attributes(code: str) -> dict[str, Any]:
    return {"note_attributes": [{"name": "gift", "value": "no"}, {"name": "ref", "value": code}]}


def landing(code: str) -> dict[str, Any]:
    return {"landing_site": f"/collections/all?utm_source=x&ref={code}"}


@pytest.mark.parametrize("fields", [attributes, landing])
def test_a_shopify_order_is_attributed_by_the_friends_code(
    deliver: Deliver,
    shop: Program,
    make_card: MakeCard,
    database: Database,
    fields: Callable[[str], dict[str, Any]],
) -> None:
    referrer = make_card(shop, email="bob@example.com", name="Bob")
    body = {**copy.deepcopy(PAID), **fields(code_of(referrer).upper())}
    assert deliver.shopify("orders/paid", body)["status"] == "applied"
    assert friend_of(database) == referrer.id


def test_a_woocommerce_order_is_attributed_by_its_walletcards_ref_meta(
    deliver: Deliver, shop: Program, make_card: MakeCard, database: Database
) -> None:
    referrer = make_card(shop, email="bob@example.com", name="Bob")
    body = copy.deepcopy(WOO)
    body["meta_data"] = [{"id": 1, "key": "walletcards_ref", "value": code_of(referrer)}]
    assert deliver.woo(body)["status"] == "applied"
    assert friend_of(database) == referrer.id


@pytest.mark.parametrize(
    "value",
    [
        [{"name": "ref", "value": {"nested": 1}}],
        "not a list",
        [{"name": "ref", "value": "x" * 5000}],
    ],
)
def test_a_malformed_shopify_ref_is_ignored_and_the_order_still_earns(
    deliver: Deliver, shop: Program, database: Database, value: Any
) -> None:
    body = {**copy.deepcopy(PAID), "note_attributes": value, "landing_site": "/?ref=%00"}
    assert deliver.shopify("orders/paid", body)["status"] == "applied"
    assert rows(database) == []


def test_an_unknown_referral_code_in_a_signed_order_is_ignored(
    client: FlaskClient, shop: Program, database: Database, clock: FixedClock
) -> None:
    body = order(clock, 1, "ann@example.com", "b6hejwvve")
    answer = post_orders(client, body, at=int(clock.now().timestamp()))
    assert (answer.status_code, (answer.json or {}).get("status")) == (200, "applied")
    assert rows(database) == []


@pytest.mark.parametrize("code", [{"a": 1}, ["x"], "x" * 41, "b6h\x00ejwvve"])
def test_a_malformed_referral_code_is_a_422_and_writes_nothing(
    client: FlaskClient, shop: Program, database: Database, clock: FixedClock, code: Any
) -> None:
    before = written(database)
    body = order(clock, 1, "ann@example.com", None)
    body["order"]["referral_code"] = code
    answer = post_orders(client, body, at=int(clock.now().timestamp()))
    error_shaped(answer, 422)
    assert written(database) == before
    with database.transaction() as session:
        assert session.execute(select(Card)).first() is None
