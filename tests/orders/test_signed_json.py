from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.kit.webhooks import ORDERS_OLD_SECRET, ORDERS_SECRET, counts, error_shaped, post_orders
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Customer


def paid(event_id: str = "evt_1", order_id: str = "A-1001") -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "order.paid",
        "order": {
            "id": order_id,
            "currency": "USD",
            "paid_at": "2026-03-01T10:00:00Z",
            "lines": [
                {"amount": "25.00", "sku": "LATTE-BEANS"},
                {"amount": "25.00", "sku": "GIFT-CARD-25"},
            ],
            "shipping": "4.00",
            "tax": "2.00",
        },
        "customer": {
            "id": "crm-77",
            "email": "Mira@Example.com",
            "phone": "+79001234567",
            "name": "Mira Ivanova",
            "birthday": "1990-03-05",
            "locale": "ru-RU",
        },
    }


def now(clock: FixedClock) -> int:
    return int(clock.now().timestamp())


def test_order_paid_creates_the_customer_and_awards_points(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    response = post_orders(client, paid(), at=now(clock))
    assert response.status_code == 200, response.json
    assert response.json is not None and response.json["status"] == "applied"
    assert response.json["balance"] == {"available": 0, "pending": 125 + 300}
    with database.transaction() as session:
        customer = session.execute(select(Customer)).scalar_one()
    assert (customer.email, customer.locale, str(customer.birthday)) == (
        "mira@example.com",
        "ru",
        "1990-03-05",
    )


def test_order_refunded_by_amount_and_by_lines(client: FlaskClient, clock: FixedClock) -> None:
    post_orders(client, paid(), at=now(clock))
    by_lines = {
        **paid("evt_2"),
        "type": "order.refunded",
        "refund": {"id": "r-1", "lines": [{"amount": "10.00", "sku": "LATTE-BEANS"}]},
    }
    first = post_orders(client, by_lines, at=now(clock))
    assert first.json is not None and first.json["balance"]["pending"] == 425 - 50
    by_amount = {
        **paid("evt_3"),
        "type": "order.refunded",
        "refund": {"id": "r-2", "amount": "5.60"},
    }
    second = post_orders(client, by_amount, at=now(clock))
    # 5.60 of 56.00 total, pro rata of the 25.00 eligible: 250 -> 125 x 1250 / 2500 = 62 in all
    assert second.json is not None and second.json["balance"]["pending"] == 425 - 62


def test_order_cancelled_reverses_everything(client: FlaskClient, clock: FixedClock) -> None:
    post_orders(client, paid(), at=now(clock))
    response = post_orders(client, {**paid("evt_9"), "type": "order.cancelled"}, at=now(clock))
    assert response.json is not None and response.json["balance"] == {"available": 0, "pending": 0}


def test_replayed_event_id_is_a_duplicate(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    first = post_orders(client, paid(), at=now(clock))
    before = counts(database)
    again = post_orders(client, paid(), at=now(clock) + 60)
    assert again.json == {**first.json, "status": "duplicate"}  # type: ignore[dict-item]
    assert counts(database) == before


def test_signatures_old_timestamps_and_rotation(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    t = now(clock)
    stale = post_orders(client, paid(), at=t - 301)
    future = post_orders(client, paid(), at=t + 301)
    wrong = post_orders(client, paid(), at=t, secrets=("whsec_wrong_secret",))
    missing = post_orders(client, paid(), at=t, header="")
    garbled = post_orders(client, paid(), at=t, header="v1=abc")
    for response in (stale, future, wrong, missing, garbled):
        assert response.status_code == 401
        assert response.json is not None and response.json["error"]["code"] == "invalid_signature"
    assert counts(database) == (0, 0)
    rolled = post_orders(client, paid(), at=t, secrets=("whsec_new_not_yet", ORDERS_OLD_SECRET))
    assert rolled.status_code == 200
    assert ORDERS_SECRET  # the current secret stays valid alongside the previous one


def test_missing_fields_are_named(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    no_lines = paid()
    no_lines["order"] = {**no_lines["order"], "lines": []}
    no_paid_at = paid()
    del no_paid_at["order"]["paid_at"]
    refund_without_amount = {**paid(), "type": "order.refunded", "refund": {"id": "r"}}
    cases = {
        "order.lines": no_lines,
        "order.paid_at": no_paid_at,
        "refund": refund_without_amount,
        "order": {"id": "e", "type": "order.paid"},
    }
    for field, body in cases.items():
        response = post_orders(client, body, at=now(clock))
        assert response.status_code == 422, (field, response.json)
        assert response.json is not None and response.json["error"]["message"].startswith(field)
    assert counts(database) == (0, 0)


def test_the_documented_openssl_recipe_signs_a_body_we_accept(
    client: FlaskClient, clock: FixedClock
) -> None:
    import json
    import subprocess

    body = json.dumps(paid())
    t = now(clock)
    # The recipe from docs/webhooks.md, run by the real openssl.
    recipe = (
        """printf '%s.%s' "$T" "$BODY" """
        """| openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.* //'"""
    )
    signature = subprocess.run(
        ["bash", "-c", recipe],
        env={"T": str(t), "BODY": body, "SECRET": ORDERS_SECRET, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    response = post_orders(client, body.encode(), at=t, header=f"t={t},v1={signature}")
    assert response.status_code == 200, response.json


def test_malformed_and_oversized_bodies_get_clear_errors(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    at = now(clock)
    not_json = post_orders(client, b"{not json", at=at)
    not_object = post_orders(client, b'"order"', at=at)
    huge = post_orders(client, b"[" + b" " * (1024 * 1024) + b"]", at=at)
    assert error_shaped(not_json, 400, "malformed_json")
    assert error_shaped(not_object, 400, "malformed_json")
    assert huge.status_code == 413 and huge.json is not None and "error" in huge.json
    assert counts(database) == (0, 0)
