from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.kit.inbox import Deliver, DrainInbox, recorded
from tests.kit.web import json_of
from tests.kit.webhooks import PUBLIC_URL, SHOP, SHOPIFY_OLD_SECRET, counts, fixture, post_shopify
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import ledger
from walletcards.loyalty.models import Card, Customer, LedgerEntry, Order
from walletcards.loyalty.verify import verify
from walletcards.orders.models import InboxDelivery

PAID = fixture("shopify_order_paid.json")
# Eligible: 2 x 16.00 - 3.20 + 12.00 - 2.30 = 38.50 (gift card, shipping, tax excluded);
# Bronze earns 5 points per dollar, rounded down: 192, plus the 300-point welcome bonus.
BASE, WELCOME = 192, 300


def entries(database: Database) -> list[tuple[str, int]]:
    with database.transaction() as session:
        return [
            tuple(r)
            for r in session.execute(
                select(LedgerEntry.kind, LedgerEntry.points).order_by(LedgerEntry.id)
            )
        ]


def test_paid_order_creates_the_card_and_awards_points(
    database: Database, deliver: Deliver
) -> None:
    answer = deliver.shopify("orders/paid", PAID)
    assert answer["status"] == "applied"
    assert answer["balance"] == {"available": 0, "pending": BASE + WELCOME}
    assert answer["card"]["url"].startswith(f"{PUBLIC_URL}/c/")
    assert answer["card"]["apple"] == answer["card"]["url"] + "/card.pkpass"
    assert answer["card"]["google"] is None  # the demo programme has no [google] table
    with database.transaction() as session:
        customer = session.execute(select(Customer)).scalar_one()
        order = session.execute(select(Order)).scalar_one()
    assert customer.external_id == f"shopify:{SHOP}:customer:7351204895634215987"
    assert order.source == f"shopify:{SHOP}"
    assert (customer.email, customer.name, customer.locale) == (
        "ann.lee@example.com",
        "Ann Lee",
        "en",
    )
    assert order.external_id == "5899425235089482367"  # beyond 2**53, kept exact
    assert (order.total_minor, order.eligible_minor) == (5858, 3850)


def test_the_same_delivery_twice_answers_the_first_answer_and_writes_nothing(
    client: FlaskClient, database: Database, drain_inbox: DrainInbox
) -> None:
    first = post_shopify(client, "orders/paid", PAID, webhook_id="wh-1")
    waiting = post_shopify(client, "orders/paid", PAID, webhook_id="wh-1")  # not applied yet
    assert counts(database) == (1, 0)
    drain_inbox()
    before = counts(database)
    again = post_shopify(client, "orders/paid", PAID, webhook_id="wh-1")
    for response in (first, waiting, again):
        assert (response.status_code, response.json) == (200, {"status": "accepted"})
    assert counts(database) == before == (1, 2)
    assert recorded(database, "shopify", "wh-1")["status"] == "applied"


def test_orders_create_and_orders_paid_for_one_order_award_points_once(
    database: Database, deliver: Deliver
) -> None:
    created = deliver.shopify("orders/create", PAID)
    paid = deliver.shopify("orders/paid", PAID)
    assert created["status"] == "applied"
    assert paid["status"] == "duplicate"
    assert paid["balance"] == created["balance"]
    assert entries(database) == [("earn", BASE), ("bonus", WELCOME)]


def test_orders_create_before_payment_is_ignored(database: Database, deliver: Deliver) -> None:
    pending = {**PAID, "financial_status": "pending"}
    assert deliver.shopify("orders/create", pending)["status"] == "ignored"
    assert entries(database) == []


def test_guest_order_falls_back_to_the_email(database: Database, deliver: Deliver) -> None:
    assert (
        deliver.shopify("orders/paid", fixture("shopify_order_guest.json"))["status"] == "applied"
    )
    with database.transaction() as session:
        customer = session.execute(select(Customer)).scalar_one()
    assert (customer.external_id, customer.email) == (None, "guest.buyer@example.com")


def test_guest_order_then_account_order_with_the_same_email_share_one_card(
    database: Database, deliver: Deliver
) -> None:
    guest = {
        **fixture("shopify_order_guest.json"),
        "email": "ann.lee@example.com",
        "contact_email": "ann.lee@example.com",
    }
    first = deliver.shopify("orders/paid", guest)
    second = deliver.shopify("orders/paid", PAID)
    assert first["card"] == second["card"] is not None
    with database.transaction() as session:
        assert len(session.execute(select(Card)).all()) == 1


def test_order_with_no_customer_and_no_email_is_recorded_unattributed(
    database: Database, deliver: Deliver
) -> None:
    anonymous = {**PAID, "customer": None, "email": None, "contact_email": None}
    answer = deliver.shopify("orders/paid", anonymous)
    assert answer["status"] == "ignored"
    assert answer["card"] is None
    with database.transaction() as session:
        row = session.execute(select(InboxDelivery)).scalar_one()
    assert row.outcome == "unattributed" and "no customer" in (row.detail or "")
    assert entries(database) == []


def test_test_orders_are_ignored_unless_the_programme_is_in_test_mode(
    database: Database, deliver: Deliver
) -> None:
    answer = deliver.shopify("orders/paid", {**PAID, "test": True})
    assert answer["status"] == "ignored"
    assert "test order" in answer["detail"]
    assert entries(database) == []


def test_partial_refund_reverses_the_refunded_lines_pro_rata(
    database: Database, deliver: Deliver
) -> None:
    deliver.shopify("orders/paid", PAID)
    answer = deliver.shopify("refunds/create", fixture("shopify_refund_partial.json"))
    assert answer["status"] == "applied"
    # The mug (9.70 of 38.50 eligible) comes back: 192 x 970 / 3850 = 48.4 -> 48 reversed.
    # The shipping refund is not eligible (include_shipping = false) and reverses nothing.
    assert answer["balance"] == {"available": 0, "pending": BASE + WELCOME - 48}
    with database.transaction() as session:
        order = session.execute(select(Order)).scalar_one()
    assert (order.refunded_minor, order.refunded_eligible_minor) == (970 + 78 + 600, 970)
    assert order.status == "partially_refunded"


def test_cancelled_order_with_nested_refunds_reverses_everything_once(
    database: Database, deliver: Deliver
) -> None:
    deliver.shopify("orders/paid", PAID)
    deliver.shopify("refunds/create", fixture("shopify_refund_partial.json"))
    cancelled = deliver.shopify("orders/cancelled", fixture("shopify_order_cancelled.json"))
    assert cancelled["status"] == "applied"
    assert cancelled["balance"] == {"available": 0, "pending": 0}
    late = deliver.shopify("refunds/create", fixture("shopify_refund_partial.json"))
    assert late["status"] == "duplicate"
    with database.transaction() as session:
        assert session.execute(select(Order.status)).scalar_one() == "cancelled"
        assert verify(session) == []


def test_refund_for_an_order_we_never_saw_is_ignored(database: Database, deliver: Deliver) -> None:
    answer = deliver.shopify("refunds/create", fixture("shopify_refund_partial.json"))
    assert answer["status"] == "ignored"


def test_refund_after_points_were_redeemed_records_debt(
    database: Database, clock: FixedClock, deliver: Deliver
) -> None:
    deliver.shopify("orders/paid", PAID)
    clock.advance(timedelta(days=15))
    with database.transaction() as session:
        card = ledger.lock_card(session, session.execute(select(Card.id)).scalar_one())
        ledger.redeem(
            session, card, key="till:1", points=BASE + WELCOME, cause="till", now=clock.now()
        )
    answer = deliver.shopify("orders/cancelled", fixture("shopify_order_cancelled.json"))
    assert answer["balance"] == {"available": 0, "pending": 0}
    with database.transaction() as session:
        card_row = session.execute(select(Card)).scalar_one()
        assert card_row.debt == BASE + WELCOME
        assert verify(session) == []


def test_unknown_topic_answers_200_accepted_and_is_recorded_ignored(
    database: Database, deliver: Deliver
) -> None:
    assert deliver.shopify("products/update", {"id": 1})["status"] == "ignored"
    with database.transaction() as session:
        row = session.execute(select(InboxDelivery)).scalar_one()
    assert (row.topic, row.outcome) == ("products/update", "ignored")


def test_signature_of_the_previous_secret_is_accepted_during_a_rotation(
    client: FlaskClient,
) -> None:
    response = post_shopify(client, "orders/paid", PAID, secret=SHOPIFY_OLD_SECRET)
    assert response.status_code == 200


def test_bad_signatures_are_refused_and_change_nothing(
    client: FlaskClient, database: Database
) -> None:
    import json

    body = json.dumps(PAID).encode()
    tampered = post_shopify(
        client,
        "orders/paid",
        body.replace(b'"16.00"', b'"1600.00"'),
        headers={"X-Shopify-Hmac-Sha256": post_sig(body)},
    )
    wrong = post_shopify(client, "orders/paid", PAID, secret="not-the-secret")
    missing = post_shopify(client, "orders/paid", PAID, secret=None)
    for response in (tampered, wrong, missing):
        assert response.status_code == 401
        assert response.json is not None and response.json["error"]["code"] == "invalid_signature"
    assert counts(database) == (0, 0)


def post_sig(body: bytes) -> str:
    from tests.kit.webhooks import SHOPIFY_SECRET
    from walletcards.orders.signatures import base64_hmac

    return base64_hmac(SHOPIFY_SECRET, body)


def test_malformed_oversized_and_misaddressed_deliveries_get_clear_errors(
    client: FlaskClient, database: Database
) -> None:
    not_json = post_shopify(client, "orders/paid", b"{not json")
    no_id = post_shopify(client, "orders/paid", {k: v for k, v in PAID.items() if k != "id"})
    bad_money = post_shopify(
        client, "orders/paid", {**PAID, "total_tax_set": None, "total_tax": "lots"}
    )
    other_currency = post_shopify(client, "orders/paid", {**PAID, "currency": "EUR"})
    huge = post_shopify(client, "orders/paid", b"[" + b" " * (1024 * 1024) + b"]")
    nowhere = post_shopify(client, "orders/paid", PAID, slug="no-such-programme")
    no_header = post_shopify(client, "orders/paid", PAID, headers={"X-Shopify-Webhook-Id": ""})
    assert (not_json.status_code, json_of(not_json)["error"]["code"]) == (400, "malformed_json")
    assert (no_id.status_code, json_of(no_id)["error"]["message"]) == (422, "id: is required")
    assert bad_money.status_code == 422 and "total_tax" in json_of(bad_money)["error"]["message"]
    assert (
        other_currency.status_code == 422
        and "currency" in json_of(other_currency)["error"]["message"]
    )
    assert huge.status_code == 413 and huge.json is not None and "error" in huge.json
    assert nowhere.status_code == 404 and json_of(nowhere)["error"]["code"] == "unknown_program"
    assert no_header.status_code == 422
    assert counts(database) == (0, 0)


def test_an_older_payload_never_overwrites_newer_customer_details(
    database: Database, deliver: Deliver
) -> None:
    newer = {**PAID, "customer": {**PAID["customer"], "first_name": "Annie"}}
    deliver.shopify(
        "orders/paid", newer, headers={"X-Shopify-Triggered-At": "2026-03-02T12:00:00Z"}
    )
    older = {**PAID, "id": 1, "customer": {**PAID["customer"], "first_name": "Ann"}}
    deliver.shopify(
        "orders/paid", older, headers={"X-Shopify-Triggered-At": "2026-03-01T12:00:00Z"}
    )
    with database.transaction() as session:
        assert session.execute(select(Customer.name)).scalar_one() == "Annie Lee"
