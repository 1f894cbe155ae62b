"""Our signed JSON keeps its synchronous answer (the card URL) while the appliers' backlog is
short; past WALLETCARDS_INLINE_APPLY_BELOW waiting deliveries it answers 202 and the sender
polls GET /api/v1/programs/<slug>/deliveries/<id>."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.kit.inbox import DrainInbox
from tests.kit.programs import MakeProgram
from tests.kit.web import MakeSettings, json_of
from tests.kit.webhooks import (
    ORDERS_OLD_SECRET,
    ORDERS_SECRET,
    PUBLIC_URL,
    error_shaped,
    fixture,
    post_orders,
    post_shopify,
    written,
)
from tests.orders.test_signed_json import paid
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.orders.signatures import timestamped_header
from walletcards.settings import Settings

BELOW = 2


@pytest.fixture
def settings(make_settings: MakeSettings) -> Settings:
    return make_settings(inline_apply_below=BELOW)


def backlog(client: FlaskClient, count: int) -> None:
    """``count`` Shopify deliveries waiting for the appliers."""
    for index in range(count):
        order = {**fixture("shopify_order_paid.json"), "id": 7000 + index}
        assert post_shopify(client, "orders/paid", order).json == {"status": "accepted"}


def poll(client: FlaskClient, path: str, at: int, secret: str = ORDERS_SECRET) -> TestResponse:
    header = timestamped_header(secret, at, path.encode())
    return client.get(path, headers={"Walletcards-Signature": header})


def accepted(response: TestResponse) -> tuple[int, str]:
    assert response.status_code == 202, response.get_data()[:300]
    body = json_of(response)
    assert (body["status"], body["card"], body["balance"]) == ("accepted", None, None)
    delivery: dict[str, Any] = body["delivery"]
    assert delivery["url"] == f"{PUBLIC_URL}/api/v1/programs/demo/deliveries/{delivery['id']}"
    return delivery["id"], delivery["url"].removeprefix(PUBLIC_URL)


def test_the_signed_json_answers_the_card_at_once_while_the_backlog_is_short(
    client: FlaskClient, clock: FixedClock
) -> None:
    backlog(client, BELOW - 1)
    response = post_orders(client, paid(), at=int(clock.now().timestamp()))
    assert response.status_code == 200, response.json
    answer = json_of(response)
    assert answer["status"] == "applied"
    assert answer["card"]["url"].startswith(f"{PUBLIC_URL}/c/")


def test_past_the_backlog_it_answers_202_and_the_poll_gives_the_card_once_applied(
    client: FlaskClient, clock: FixedClock, drain_inbox: DrainInbox, database: Database
) -> None:
    at = int(clock.now().timestamp())
    backlog(client, BELOW)
    row_id, path = accepted(post_orders(client, paid(), at=at))
    again = post_orders(client, paid(), at=at)  # a repeat before it is applied: the same
    assert accepted(again) == (row_id, path)
    waiting = json_of(poll(client, path, at))
    assert waiting["status"] == "accepted" and waiting["delivery"]["outcome"] == "accepted"
    drain_inbox()
    done = poll(client, path, at)
    assert done.status_code == 200
    answer = json_of(done)
    assert answer["status"] == "applied" and answer["delivery"]["id"] == row_id
    assert answer["card"]["url"].startswith(f"{PUBLIC_URL}/c/")
    assert answer["balance"]["pending"] > 0
    before = written(database)
    repeat = post_orders(client, paid(), at=at)  # applied now: the recorded answer, duplicate
    assert json_of(repeat)["status"] == "duplicate"
    assert json_of(repeat)["card"] == answer["card"]
    assert written(database) == before


def test_a_later_delivery_of_a_waiting_order_waits_too_however_short_the_backlog(
    client: FlaskClient, clock: FixedClock, drain_inbox: DrainInbox
) -> None:
    at = int(clock.now().timestamp())
    backlog(client, BELOW)
    accepted(post_orders(client, paid("evt_1", "A-1"), at=at))
    drain_inbox()
    backlog(client, BELOW)  # the paid order applied; a new backlog
    first, _ = accepted(
        post_orders(client, {**paid("evt_2", "A-1"), "type": "order.cancelled"}, at=at)
    )
    drain_inbox()
    assert post_orders(client, paid("evt_3", "A-2"), at=at).status_code == 200  # short again
    backlog(client, 1)
    cancel_path = f"/api/v1/programs/demo/deliveries/{first}"
    assert json_of(poll(client, cancel_path, at))["status"] == "applied"


def test_the_poll_takes_the_previous_secret_a_manager_or_an_integration_account(
    client: FlaskClient,
    clock: FixedClock,
    manager: dict[str, str],
    integration: dict[str, str],
    cashier: dict[str, str],
) -> None:
    at = int(clock.now().timestamp())
    backlog(client, BELOW)
    _, path = accepted(post_orders(client, paid(), at=at))
    assert poll(client, path, at, ORDERS_OLD_SECRET).status_code == 200
    assert client.get(path, headers=manager).status_code == 200
    assert client.get(path, headers=integration).status_code == 200
    error_shaped(client.get(path, headers=cashier), 403, "forbidden")


def test_unsigned_forged_stale_or_misaddressed_polls_are_refused(
    client: FlaskClient, clock: FixedClock, make_program: MakeProgram, manager: dict[str, str]
) -> None:
    at = int(clock.now().timestamp())
    backlog(client, BELOW)
    row_id, path = accepted(post_orders(client, paid(), at=at))
    error_shaped(client.get(path), 401, "unauthorized")
    error_shaped(poll(client, path, at, "not-the-secret"), 401, "invalid_signature")
    error_shaped(poll(client, path, at - 3600), 401, "invalid_signature")
    other = f"/api/v1/programs/demo/deliveries/{row_id + 1}"  # signed for another path
    header = timestamped_header(ORDERS_SECRET, at, path.encode())
    error_shaped(client.get(other, headers={"Walletcards-Signature": header}), 401)
    # a Shopify delivery is not the sender's to read with the orders secret
    error_shaped(poll(client, "/api/v1/programs/demo/deliveries/1", at), 404, "unknown_delivery")
    # another programme's manager
    make_program(slug="other", webhooks={"orders_secret": "whsec_other_secret_0123456789"})
    error_shaped(client.get(path.replace("/demo/", "/other/"), headers=manager), 404)
    error_shaped(poll(client, path.replace("/demo/", "/other/"), at), 401, "invalid_signature")


@pytest.mark.parametrize("ident", ["0", "-1", "abc", "9" * 19, str(2**63), "1" * 400, "1.5", "١٢"])
def test_malformed_or_oversized_delivery_ids_are_404(
    client: FlaskClient, clock: FixedClock, manager: dict[str, str], ident: str
) -> None:
    at = int(clock.now().timestamp())
    path = f"/api/v1/programs/demo/deliveries/{ident}"
    error_shaped(client.get(path, headers=manager), 404, "unknown_delivery")
    error_shaped(poll(client, path, at), 404, "unknown_delivery")


def test_a_nul_in_the_path_or_an_unknown_programme_is_a_clear_error(
    client: FlaskClient, clock: FixedClock, manager: dict[str, str]
) -> None:
    at = int(clock.now().timestamp())
    error_shaped(client.get("/api/v1/programs/demo/deliveries/1%00", headers=manager), 422)
    error_shaped(poll(client, "/api/v1/programs/nope/deliveries/1", at), 404, "unknown_program")


def test_an_unsigned_id_sent_twice_is_no_new_delivery(
    client: FlaskClient, clock: FixedClock
) -> None:
    at = int(clock.now().timestamp())
    backlog(client, BELOW)
    body = paid(f"evt_{uuid.uuid4().hex}")
    first, _ = accepted(post_orders(client, body, at=at))
    second, _ = accepted(post_orders(client, body, at=at))
    assert first == second
