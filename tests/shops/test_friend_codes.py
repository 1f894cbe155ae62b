"""A referred friend's discount code ([referral] friend_reward = { discount = ... }), made by
the scheduled jobs through the real shop clients against the loopback fakes: one single-use
code per friend, in Shopify or as a WooCommerce coupon, shown on the friend's card page; a
refusal leaves no code on the page, an unavailable shop is tried again, and a code the shop
already holds (an interrupted run) counts as made."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.fakes.shopify_admin import FakeShopify
from tests.fakes.woocommerce_admin import FakeWooCommerce
from tests.join.pages import JOIN, sign_up
from tests.kit.programs import MakeCard, MakeProgram
from tests.kit.webhooks import (
    ORDERS_SECRET,
    SHOP,
    SHOPIFY_SECRET,
    WOO_SECRET,
    post_orders,
)
from tests.shops.conftest import TOKEN, WOO_KEY
from tests.shops.conftest import WOO_SECRET as WOO_CONSUMER_SECRET
from walletcards.clients import Clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Program
from walletcards.loyalty.referral_codes import referral_code
from walletcards.loyalty.referral_models import Referral
from walletcards.rights.export import export_customer
from walletcards.shops import codes
from walletcards.shops.codes import ATTEMPTS
from walletcards.sync.jobs import run_due

DISCOUNT = {"referrer_points": 500, "friend_reward": {"discount": "10.00", "expires_days": 30}}
SHOPIFY = {"admin_token": "env:DEMO_SHOPIFY_TOKEN"}
WOO = {
    "site_url": "https://shop.example.com",
    "consumer_key": "env:DEMO_WOO_KEY",
    "consumer_secret": "env:DEMO_WOO_SECRET",
}


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codes, "wait", lambda seconds: None)
    monkeypatch.setenv("DEMO_SHOPIFY_TOKEN", TOKEN)
    monkeypatch.setenv("DEMO_WOO_KEY", WOO_KEY)
    monkeypatch.setenv("DEMO_WOO_SECRET", WOO_CONSUMER_SECRET)


def program_with(make_program: MakeProgram, **shops: Any) -> Program:
    hooks = {
        "shopify_secret": SHOPIFY_SECRET,
        "shopify_shop_domain": SHOP,
        "woocommerce_secret": WOO_SECRET,
        "woocommerce_site_url": "https://shop.example.com",
        "orders_secret": ORDERS_SECRET,
    }
    return make_program(referral=DISCOUNT, webhooks=hooks, **shops)


def friend_joins(client: FlaskClient, clock: FixedClock, referrer: Card, n: int = 1) -> None:
    """A first order of a new customer carrying the referrer's code (the signed JSON)."""
    body = {
        "id": f"evt-{n}",
        "type": "order.paid",
        "order": {
            "id": f"A-{n}",
            "currency": "USD",
            "paid_at": clock.now().isoformat(),
            "lines": [{"amount": "20.00", "sku": "BEANS"}],
            "referral_code": referral_code(referrer.id, referrer.qr_secret),
        },
        "customer": {"email": f"friend{n}@example.com", "name": "Friend"},
    }
    answer = post_orders(client, body, at=int(clock.now().timestamp()))
    assert answer.status_code == 200, answer.json


def referrals(database: Database) -> list[Referral]:
    with database.transaction() as session:
        return list(session.execute(select(Referral).order_by(Referral.id)).scalars())


def friend_page(client: FlaskClient, database: Database, n: int = 1) -> str:
    with database.transaction() as session:
        token = session.execute(
            select(Card.public_token)
            .join(Customer, Customer.id == Card.customer_id)
            .where(Customer.email == f"friend{n}@example.com")
        ).scalar_one()
    return client.get(f"/c/{token}").get_data(as_text=True)


def test_a_friend_gets_one_single_use_shopify_code_made_by_the_jobs(
    client: FlaskClient,
    make_program: MakeProgram,
    make_card: MakeCard,
    database: Database,
    clock: FixedClock,
    shop_clients: Clients,
    fake_shopify: FakeShopify,
) -> None:
    shop = program_with(make_program, shopify=SHOPIFY)
    friend_joins(client, clock, make_card(shop, email="bob@example.com"))
    (row,) = referrals(database)
    assert row.friend_code is not None and row.friend_code.startswith("FRIEND-")
    assert (row.friend_code_state, row.friend_code_minor) == ("pending", 1000)
    assert fake_shopify.codes == {}  # nothing sent from the order's transaction
    assert "being set up in the shop" in friend_page(client, database)

    assert run_due(database, clock.now(), shop_clients)["referral_codes"] == 1
    ((gid, sent),) = fake_shopify.codes.items()
    assert sent["code"] == row.friend_code and sent["usageLimit"] == 1
    assert "'amount': '10.00'" in str(sent)
    assert (sent["startsAt"], sent["endsAt"]) == ("2026-03-01T12:00:00Z", "2026-03-31T12:00:00Z")
    (made,) = referrals(database)
    assert (made.friend_code_state, made.friend_shop_code_id) == ("live", gid)
    page = friend_page(client, database)
    assert f"Your welcome discount code: {row.friend_code}, 10.00 USD off" in page

    clock.advance(timedelta(minutes=1))
    assert run_due(database, clock.now(), shop_clients)["referral_codes"] == 0
    assert len(fake_shopify.codes) == 1  # once per friend
    with database.transaction() as session:  # a code instead of points, not both
        friend = session.execute(select(LedgerEntry).where(LedgerEntry.cause.like("referral:%")))
        assert friend.first() is None
    clock.advance(timedelta(days=30))  # expired: no longer offered on the page
    assert 'id="welcome-code"' not in friend_page(client, database)


def test_a_woocommerce_shop_gets_a_coupon(
    client: FlaskClient,
    make_program: MakeProgram,
    make_card: MakeCard,
    database: Database,
    clock: FixedClock,
    shop_clients: Clients,
    fake_woo: FakeWooCommerce,
) -> None:
    shop = program_with(make_program, woocommerce=WOO)
    friend_joins(client, clock, make_card(shop, email="bob@example.com"))
    run_due(database, clock.now(), shop_clients)
    ((coupon_id, coupon),) = fake_woo.coupons.items()
    (row,) = referrals(database)
    assert coupon["code"] == str(row.friend_code).lower() and coupon["amount"] == "10.00"
    assert coupon["usage_limit"] == 1
    assert (row.friend_code_state, row.friend_shop_code_id) == ("live", str(coupon_id))


def test_a_refused_code_is_failed_and_not_shown_and_an_unavailable_shop_is_retried(
    client: FlaskClient,
    make_program: MakeProgram,
    make_card: MakeCard,
    database: Database,
    clock: FixedClock,
    shop_clients: Clients,
    fake_shopify: FakeShopify,
) -> None:
    shop = program_with(make_program, shopify=SHOPIFY)
    bob = make_card(shop, email="bob@example.com")
    friend_joins(client, clock, bob, 1)
    fake_shopify.refuse_next("discountCodeBasicCreate", "Starts at is invalid", "INVALID")
    run_due(database, clock.now(), shop_clients)
    (row,) = referrals(database)
    assert row.friend_code_state == "failed" and "Starts at is invalid" in str(
        row.friend_code_error
    )
    assert 'id="welcome-code"' not in friend_page(client, database, 1)

    friend_joins(client, clock, bob, 2)
    fake_shopify.statuses.extend([500] * 50)  # every call of this run
    clock.advance(timedelta(minutes=1))
    assert run_due(database, clock.now(), shop_clients)["referral_codes"] == 0
    assert referrals(database)[1].friend_code_state == "pending"
    fake_shopify.statuses.clear()
    clock.advance(timedelta(minutes=1))
    assert run_due(database, clock.now(), shop_clients)["referral_codes"] == 1
    assert referrals(database)[1].friend_code_state == "live"


def test_a_code_the_shop_already_holds_counts_as_made(
    client: FlaskClient,
    make_program: MakeProgram,
    make_card: MakeCard,
    database: Database,
    clock: FixedClock,
    shop_clients: Clients,
    fake_shopify: FakeShopify,
) -> None:
    shop = program_with(make_program, shopify=SHOPIFY)
    friend_joins(client, clock, make_card(shop, email="bob@example.com"))
    fake_shopify.refuse_next("discountCodeBasicCreate", "Code must be unique.", "TAKEN")
    run_due(database, clock.now(), shop_clients)
    (row,) = referrals(database)
    assert (row.friend_code_state, row.friend_code_error) == ("live", None)


def test_a_friend_joining_through_the_link_sees_the_code_on_the_card_it_lands_on(
    client: FlaskClient,
    make_program: MakeProgram,
    make_card: MakeCard,
    database: Database,
    clock: FixedClock,
    shop_clients: Clients,
    fake_shopify: FakeShopify,
) -> None:
    shop = program_with(make_program, shopify=SHOPIFY, join={**JOIN, "confirm_email": False})
    bob = make_card(shop, email="bob@example.com")
    code = referral_code(bob.id, bob.qr_secret)
    assert client.get(f"/r/{code}").headers["Location"] == f"/join/demo?ref={code}"
    joined = sign_up(client, query=f"?ref={code}", ref=code)
    assert joined.status_code == 303
    card_page = str(joined.headers["Location"])
    assert "being set up in the shop" in client.get(card_page).get_data(as_text=True)
    run_due(database, clock.now(), shop_clients)
    (row,) = referrals(database)
    assert row.friend_code_state == "live" and len(fake_shopify.codes) == 1
    assert f"code: {row.friend_code}, 10.00 USD" in client.get(card_page).get_data(as_text=True)


def test_the_code_is_in_the_friends_export_and_never_in_the_referrers(
    client: FlaskClient,
    make_program: MakeProgram,
    make_card: MakeCard,
    database: Database,
    clock: FixedClock,
) -> None:
    shop = program_with(make_program, shopify=SHOPIFY)
    bob = make_card(shop, email="bob@example.com")
    friend_joins(client, clock, bob)
    (row,) = referrals(database)
    with database.transaction() as session:
        program = session.merge(shop)
        documents = {
            email: export_customer(
                session,
                program,
                session.execute(select(Customer).where(Customer.email == email)).scalar_one(),
                clock.now(),
            )
            for email in ("bob@example.com", "friend1@example.com")
        }
    (mine,) = documents["bob@example.com"]["referrals"]
    (theirs,) = documents["friend1@example.com"]["referrals"]
    assert mine["role"] == "referrer" and "friend_code" not in mine
    assert str(row.friend_code) not in str(documents["bob@example.com"])
    assert theirs["role"] == "friend" and theirs["friend_code"] == row.friend_code


def test_an_unavailable_shop_holds_up_only_its_first_pending_code_each_run(
    client: FlaskClient,
    make_program: MakeProgram,
    make_card: MakeCard,
    database: Database,
    clock: FixedClock,
    shop_clients: Clients,
    fake_shopify: FakeShopify,
) -> None:
    shop = program_with(make_program, shopify=SHOPIFY)
    bob = make_card(shop, email="bob@example.com")
    for n in (1, 2, 3):
        friend_joins(client, clock, bob, n)
    fake_shopify.requests.clear()
    fake_shopify.statuses.extend([500] * 50)
    assert run_due(database, clock.now(), shop_clients)["referral_codes"] == 0
    tries = [r for r in fake_shopify.requests if r.operation == "WalletcardsCreateCode"]
    assert len(tries) == ATTEMPTS  # the first code's tries; the others wait for the next run
    assert {row.friend_code_state for row in referrals(database)} == {"pending"}
