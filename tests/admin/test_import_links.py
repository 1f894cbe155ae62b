"""An imported customer is the one the shop's next order names: import -> signed webhook -> one
card holding both the opening points and the order's, for every source and identity."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.admin.test_import import csv_file, run
from tests.kit.inbox import Deliver
from tests.kit.programs import MakeProgram, demo_document
from tests.kit.web import json_of
from tests.kit.webhooks import (
    ORDERS_SECRET,
    SHOP,
    SHOPIFY_SECRET,
    WOO_SECRET,
    fixture,
    post_orders,
)
from tests.orders.test_signed_json import paid
from walletcards.cardface import card_face
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Program
from walletcards.loyalty.periods import Span
from walletcards.loyalty.verify import verify
from walletcards.sync.jobs import run_due

SHOPIFY_ORDER = fixture("shopify_order_paid.json")  # customer 7351204895634215987
WOO_ORDER = fixture("woocommerce_order_processing.json")  # customer 26
SECRETS = {
    "shopify_secret": SHOPIFY_SECRET,
    "shopify_shop_domain": SHOP,
    "woocommerce_secret": WOO_SECRET,
    "woocommerce_site_url": "https://shop.example.com",
    "orders_secret": ORDERS_SECRET,
}
Send = Callable[[Deliver, FixedClock], dict[str, Any]]


@pytest.fixture
def program(make_program: MakeProgram) -> Program:
    return make_program(webhooks=SECRETS)


def send_shopify(deliver: Deliver, clock: FixedClock) -> dict[str, Any]:
    return deliver.shopify("orders/paid", SHOPIFY_ORDER)


def send_woo(deliver: Deliver, clock: FixedClock) -> dict[str, Any]:
    return deliver.woo(WOO_ORDER, topic="order.created")


def send_orders(deliver: Deliver, clock: FixedClock) -> dict[str, Any]:
    """Our signed JSON: applied in its request (no backlog), answering the card."""
    response = post_orders(deliver.client, paid(), at=int(clock.now().timestamp()))  # crm-77
    assert response.status_code == 200, response.json
    return json_of(response)


def one_card(database: Database) -> Card:
    with database.transaction() as session:
        assert session.execute(select(func.count()).select_from(Customer)).scalar_one() == 1
        assert verify(session) == []
        return session.execute(select(Card)).scalar_one()


@pytest.mark.parametrize(
    ("options", "row", "send"),
    [
        # the shop the programme pins, by default or repeated in any spelling
        (
            ("--source", "shopify", "--shop", "https://Demo-Coffee-Roasters.myshopify.com/"),
            "7351204895634215987,,,Ann,1200",
            send_shopify,
        ),
        (("--source", "shopify"), ",ann.lee@example.com,,Ann,1200", send_shopify),
        (("--source", "shopify"), ",,+1 613-555-0123,Ann,1200", send_shopify),
        (("--source", "woocommerce"), "26,,,John,1200", send_woo),
        (
            (
                "--source",
                "orders",
            ),
            "crm-77,,,Mira,1200",
            send_orders,
        ),
        (
            (
                "--source",
                "orders",
            ),
            ",,+7 (900) 123-45-67,Mira,1200",
            send_orders,
        ),
    ],
    ids=[
        "shopify-id",
        "shopify-email",
        "shopify-phone",
        "woocommerce-id",
        "orders-id",
        "orders-phone",
    ],
)
def test_the_next_order_finds_the_imported_customer_one_card_both_balances(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    tmp_path: Path,
    options: tuple[str, ...],
    row: str,
    send: Send,
    deliver: Deliver,
) -> None:
    path = csv_file(tmp_path, row + "\n", header="external_id,email,phone,name,points\n")
    code, output = run(database, path, *options)
    assert code == 0 and "imported 1 customers (1200 points)" in output, output
    answer = send(deliver, clock)
    assert answer["status"] == "applied"
    balance = answer["balance"]
    assert balance["available"] == 1200 and balance["pending"] > 0  # opening + the order
    card = one_card(database)
    assert (card.available, card.pending, card.paid_orders) == (1200, balance["pending"], 1)


def test_an_imported_customer_earns_no_welcome_on_their_first_order_here(
    client: FlaskClient, database: Database, clock: FixedClock, tmp_path: Path, deliver: Deliver
) -> None:
    path = csv_file(
        tmp_path, "crm-77,,,Mira,1200\n", header="external_id,email,phone,name,points\n"
    )
    assert run(database, path, "--source", "orders")[0] == 0
    assert send_orders(deliver, clock)["status"] == "applied"
    # a customer new to the programme does earn it, on the same kind of order
    other = paid("evt_2", "A-2002")
    other["customer"] = {"id": "crm-78", "email": "new@example.com"}
    assert post_orders(client, other, at=int(clock.now().timestamp())).status_code == 200
    with database.transaction() as session:
        welcomed = session.execute(
            select(Customer.external_id)
            .join(Card, Card.customer_id == Customer.id)
            .join(LedgerEntry, LedgerEntry.card_id == Card.id)
            .where(LedgerEntry.cause == "welcome")
        ).scalars()
        assert list(welcomed) == ["orders:customer:crm-78"]
        assert verify(session) == []


def test_ids_are_spelt_from_the_pinned_shop_and_another_shop_is_refused(
    database: Database, clock: FixedClock, tmp_path: Path, deliver: Deliver
) -> None:
    path = csv_file(tmp_path, "7351204895634215987,1200\n", header="external_id,points\n")
    code, output = run(database, path, "--source", "shopify", "--shop", "other.myshopify.com")
    assert code != 0 and "is not the shop the programme pins" in output, output
    code, output = run(database, path, "--source", "woocommerce", "--shop", "not a site")
    assert code != 0 and "--shop: the site's address" in output, output
    assert run(database, path, "--source", "shopify")[0] == 0
    send_shopify(deliver, clock)
    with database.transaction() as session:
        ids = list(session.execute(select(Customer.external_id)).scalars())
    assert ids == [f"shopify:{SHOP}:customer:7351204895634215987"]  # one customer


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "name the shop with --source"),
        (("--source", "shopify", "--shop", "other.myshopify.com"), "--shop: 'other.myshopify"),
        (("--source", "orders", "--shop", "x.myshopify.com"), "--shop: only for"),
        (("--source", "orders", "--map-tier", "5=platinum"), "no tier 'platinum'"),
        (("--source", "orders", "--map", "5=lots"), "--map: LEVEL=POINTS"),
    ],
)
def test_import_options_are_checked_before_anything_is_read(
    database: Database, program: Program, tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    path = csv_file(tmp_path, "crm-1,5,100\n", header="external_id,discount_level,points\n")
    code, output = run(database, path, *args) if args else _bare(database, path)
    assert code != 0 and says in output, output


def _bare(database: Database, path: str) -> tuple[int, str]:
    from click.testing import CliRunner

    from walletcards.cli import main

    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    result = CliRunner().invoke(main, ["import", "customers", path, "--program", "demo"], env=env)
    return result.exit_code, result.output


def test_language_is_checked_against_the_programmes_languages(
    database: Database, program: Program, tmp_path: Path
) -> None:
    body = "crm-1,Ann,ru-RU,10\ncrm-2,Bob,de,10\ncrm-3,Carl,,10\n"
    path = csv_file(tmp_path, body, header="external_id,name,language,points\n")
    code, output = run(database, path)
    assert code == 0 and "rejected: row 3: language 'de' is not one of the programme's" in output
    with database.transaction() as session:
        locales = dict(session.execute(select(Customer.name, Customer.locale)).tuples().all())
    assert locales == {"Ann": "ru", "Carl": None}


def tiered_import(database: Database, tmp_path: Path, *extra: str) -> str:
    body = "crm-77,10\ncrm-2,5\ncrm-3,2\n"
    path = csv_file(tmp_path, body, header="external_id,discount_level\n")
    code, output = run(
        database, path, "--map", "2=0,5=500,10=1000", "--map-tier", "5=silver,10=gold", *extra
    )
    assert code == 0, output
    return output


def test_discount_levels_map_to_tiers_that_orders_and_refunds_respect(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    tmp_path: Path,
    program: Program,
    deliver: Deliver,
) -> None:
    output = tiered_import(database, tmp_path)
    assert "tiers: gold 1, silver 1" in output
    with database.transaction() as session:
        tiers = dict(session.execute(select(Card.available, Card.tier_code)).tuples().all())
    assert tiers == {1000: "gold", 500: "silver", 0: None}
    ordered = send_orders(deliver, clock)  # crm-77's first order: history says Bronze
    # earned at Gold's 10 points per dollar: 25.00 eligible -> 250; no welcome (not new here)
    assert ordered["balance"] == {"available": 1000, "pending": 250}
    cancel = {**paid("evt_c"), "type": "order.cancelled"}
    post_orders(client, cancel, at=int(clock.now().timestamp()))
    card = session_card(database, "orders:customer:crm-77")
    assert (card.tier_code, card.tier_floor, card.tier_floor_until) == ("gold", "gold", None)
    with database.transaction() as session:
        face = card_face(session, program, card, clock.now(), "k" * 20)
    assert (face.tier, face.next_tier) == ("Gold", None)  # the top: nothing "to Bronze"


def session_card(database: Database, external_id: str) -> Card:
    with database.transaction() as session:
        return session.execute(
            select(Card).join(Customer).where(Customer.external_id == external_id)
        ).scalar_one()


def test_a_requalifying_programme_holds_an_imported_tier_until_the_first_review(
    database: Database, clock: FixedClock, tmp_path: Path, make_program: MakeProgram
) -> None:
    tiers: dict[str, Any] = demo_document()["tiers"]
    make_program(webhooks=SECRETS, tiers={**tiers, "period": "requalify", "requalify_months": 12})
    tiered_import(database, tmp_path)
    card = session_card(database, "orders:customer:crm-77")
    assert card.tier_code == "gold" and card.tier_floor_until is not None
    run_due(database, clock.now() + timedelta(days=300))  # not due: nothing changes
    assert session_card(database, "orders:customer:crm-77").tier_code == "gold"
    run_due(database, card.tier_floor_until)  # the first review: the history decides
    assert session_card(database, "orders:customer:crm-77").tier_code is None


def test_a_windowed_tier_keeps_an_imported_floor_on_the_card_and_in_the_next_orders_rate(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    tmp_path: Path,
    make_program: MakeProgram,
    deliver: Deliver,
) -> None:
    tiers: dict[str, Any] = demo_document()["tiers"]
    program = make_program(
        webhooks=SECRETS, tiers={**tiers, "period": "requalify", "requalify_months": 12}
    )
    tiered_import(database, tmp_path)
    card = session_card(database, "orders:customer:crm-77")
    assert card.tier_since is not None and card.tier_review_at == card.tier_floor_until
    # one window after the import, in calendar months of the programme's zone
    assert card.tier_floor_until == Span(months=12).after(card.tier_since, "America/New_York")
    ordered = send_orders(deliver, clock)  # the window alone earns Bronze
    assert ordered["balance"]["pending"] == 250  # at Gold's 10 points per dollar
    card = session_card(database, "orders:customer:crm-77")
    assert (card.tier_code, card.tier_review_at) == ("gold", card.tier_floor_until)
    with database.transaction() as session:
        face = card_face(session, program, card, clock.now(), "k" * 20)
    assert (face.tier, face.next_tier) == ("Gold", None)  # held: nothing to keep up yet


def test_without_a_pinned_shop_the_import_needs_shop(
    database: Database, make_program: MakeProgram, tmp_path: Path
) -> None:
    make_program(webhooks={"orders_secret": ORDERS_SECRET})
    path = csv_file(tmp_path, "26,10\n", header="external_id,points\n")
    code, output = run(database, path, "--source", "woocommerce")
    assert code != 0 and "the programme pins none" in output, output
    code, output = run(database, path, "--source", "woocommerce", "--shop", "Shop.Example.com/")
    assert code == 0, output
    with database.transaction() as session:
        ids = list(session.execute(select(Customer.external_id)).scalars())
    assert ids == ["woocommerce:shop.example.com:customer:26"]
