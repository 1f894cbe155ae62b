from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.kit.inbox import Deliver, DrainInbox
from tests.kit.webhooks import counts, error_shaped, fixture, post_woo
from walletcards.db import Database
from walletcards.loyalty.models import Customer, Order
from walletcards.loyalty.verify import verify

ORDER = fixture("woocommerce_order_processing.json")
# Eligible: line totals 6.00 + 12.00 (the GIFT-CARD-25 line is excluded; shipping and tax
# too) = 18.00 -> 90 points at Bronze, plus the 300-point welcome bonus.
BASE, WELCOME = 90, 300


def test_webhook_creation_ping_answers_200_and_writes_nothing(
    client: FlaskClient, database: Database
) -> None:
    response = client.post(
        "/webhooks/demo/woocommerce",
        data=b"webhook_id=12",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert counts(database) == (0, 0)


def test_processing_order_with_date_paid_is_applied(database: Database, deliver: Deliver) -> None:
    answer = deliver.woo(ORDER, topic="order.created")
    assert answer["status"] == "applied"
    assert answer["balance"] == {"available": 0, "pending": BASE + WELCOME}
    with database.transaction() as session:
        customer = session.execute(select(Customer)).scalar_one()
    assert customer.external_id == "woocommerce:shop.example.com:customer:26"
    assert (customer.email, customer.name) == ("john.doe@example.com", "John Doe")


def test_unpaid_order_is_ignored(database: Database, deliver: Deliver) -> None:
    pending = {**ORDER, "status": "pending", "date_paid": None, "date_paid_gmt": None}
    assert deliver.woo(pending, topic="order.created")["status"] == "ignored"
    assert counts(database)[1] == 0


def test_processing_then_refunded_applies_each_refund_once_then_reverses_the_rest(
    database: Database, deliver: Deliver
) -> None:
    deliver.woo(ORDER, topic="order.created")
    # order.updated with nothing new: a duplicate, nothing written
    assert deliver.woo(ORDER)["status"] == "duplicate"
    refunded_once = {**ORDER, "refunds": [{"id": 730, "reason": "", "total": "-10.00"}]}
    first = deliver.woo(refunded_once)
    # 10.00 of 37.35 refunded -> eligible share 1000 x 1800 / 3735 = 481 -> 90 x 481 / 1800 = 24
    assert first["balance"]["pending"] == BASE + WELCOME - 24
    again = deliver.woo(refunded_once)  # built at delivery time: same refund listed again
    assert again["status"] == "duplicate"
    assert again["balance"] == first["balance"]
    refunded = {
        **refunded_once,
        "status": "refunded",
        "refunds": [*refunded_once["refunds"], {"id": 731, "total": "-27.35"}],
    }
    final = deliver.woo(refunded)
    assert final["balance"] == {"available": 0, "pending": 0}
    with database.transaction() as session:
        order = session.execute(select(Order)).scalar_one()
        assert (order.status, order.points_reversed) == ("refunded", BASE)  # + WELCOME revoked
        assert verify(session) == []


def test_cancelled_order_reverses_what_remains(database: Database, deliver: Deliver) -> None:
    deliver.woo(ORDER, topic="order.created")
    answer = deliver.woo({**ORDER, "status": "cancelled"})
    assert answer["balance"] == {"available": 0, "pending": 0}
    with database.transaction() as session:
        assert session.execute(select(Order.status)).scalar_one() == "cancelled"


def test_bad_signature_is_refused(client: FlaskClient, database: Database) -> None:
    assert post_woo(client, ORDER, secret="wrong").status_code == 401
    assert post_woo(client, ORDER, secret=None).status_code == 401
    assert counts(database) == (0, 0)


def test_unknown_topic_is_ignored_and_recorded(database: Database, deliver: Deliver) -> None:
    assert deliver.woo({"id": 5}, topic="product.updated")["status"] == "ignored"
    assert counts(database) == (1, 0)


def test_malformed_oversized_and_incomplete_deliveries_get_clear_errors(
    client: FlaskClient, database: Database
) -> None:
    not_json = post_woo(client, b"{not json")
    not_object = post_woo(client, b"[1, 2]")
    huge = post_woo(client, b"[" + b" " * (1024 * 1024) + b"]")
    no_delivery_id = post_woo(client, ORDER, headers={"X-WC-Webhook-Delivery-ID": ""})
    other_currency = post_woo(client, {**ORDER, "currency": "EUR"})
    no_status = post_woo(client, {k: v for k, v in ORDER.items() if k != "status"})
    assert error_shaped(not_json, 400, "malformed_json")
    assert error_shaped(not_object, 400, "malformed_json")
    assert huge.status_code == 413 and huge.json is not None and "error" in huge.json
    assert "headers" in error_shaped(no_delivery_id, 422, "invalid_payload")
    assert "currency" in error_shaped(other_currency, 422, "invalid_payload")
    assert error_shaped(no_status, 422, "invalid_payload").startswith("status")
    assert counts(database) == (0, 0)


def test_the_same_delivery_twice_answers_the_same_and_writes_nothing(
    client: FlaskClient, database: Database, drain_inbox: DrainInbox
) -> None:
    first = post_woo(client, ORDER, delivery_id="d-1")
    drain_inbox()
    before = counts(database)
    again = post_woo(client, ORDER, delivery_id="d-1")
    assert first.json == again.json == {"status": "accepted"}
    assert drain_inbox() == 0
    assert counts(database) == before == (1, 2)
