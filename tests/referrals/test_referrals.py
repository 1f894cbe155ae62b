"""Referrals: the link, attribution (join page, signed-JSON ``referral_code``), the friend's
reward, the referrer paid once after the hold, self-referral, refunds and the monthly cap."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.join.pages import JOIN, sign_up
from tests.kit.programs import MakeCard, MakeProgram, demo_document
from tests.kit.webhooks import ORDERS_SECRET, post_orders
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.config import ProgramConfigError, parse_program
from walletcards.loyalty.models import Card, LedgerEntry, Program
from walletcards.loyalty.referral_codes import referral_code
from walletcards.loyalty.referral_models import Referral
from walletcards.loyalty.verify import verify
from walletcards.sync.jobs import run_due

REFERRAL = {"referrer_points": 500, "friend_reward": 150}
HOLD_DAYS = 14


def code_of(card: Card) -> str:
    return referral_code(card.id, card.qr_secret)


def referral_points(database: Database, suffix: str) -> int:
    with database.transaction() as session:
        total = session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
                LedgerEntry.cause.like(f"referral:%:{suffix}")
            )
        )
    return int(total or 0)


def rows(database: Database) -> list[tuple[str, str | None]]:
    with database.transaction() as session:
        found = session.execute(select(Referral).order_by(Referral.id)).scalars()
        return [(r.status, r.reason) for r in found]


def order(clock: FixedClock, n: int, email: str, code: str | None, **customer: Any) -> Any:
    body: dict[str, Any] = {
        "id": f"evt-{n}",
        "type": "order.paid",
        "order": {
            "id": f"A-{n}",
            "currency": "USD",
            "paid_at": clock.now().isoformat(),
            "lines": [{"amount": "20.00", "sku": "BEANS"}],
        },
        "customer": {"email": email, "name": "Friend", **customer},
    }
    if code is not None:
        body["order"]["referral_code"] = code
    return body


def post(client: FlaskClient, clock: FixedClock, body: Any) -> None:
    answer = post_orders(client, body, at=int(clock.now().timestamp()))
    assert answer.status_code == 200, answer.json


@pytest.fixture
def shop(make_program: MakeProgram) -> Program:
    return make_program(
        referral=REFERRAL, webhooks={"orders_secret": ORDERS_SECRET}, hold={"days": HOLD_DAYS}
    )


def test_a_friend_ordering_with_the_code_pays_the_referrer_once_after_the_hold(
    client: FlaskClient, shop: Program, make_card: MakeCard, database: Database, clock: FixedClock
) -> None:
    referrer = make_card(shop, email="bob@example.com", name="Bob")
    post(client, clock, order(clock, 1, "ann@example.com", code_of(referrer)))
    assert rows(database) == [("pending", None)]
    assert referral_points(database, "friend") == 150  # the friend's reward at once
    run_due(database, clock.now() + timedelta(days=HOLD_DAYS - 1))
    assert referral_points(database, "referrer") == 0  # still inside the hold
    clock.advance(timedelta(days=HOLD_DAYS, minutes=1))
    run_due(database, clock.now())
    run_due(database, clock.now() + timedelta(minutes=1))
    assert rows(database) == [("paid", None)]
    assert referral_points(database, "referrer") == 500
    # a second order of the friend with the code changes nothing
    post(client, clock, order(clock, 2, "ann@example.com", code_of(referrer)))
    run_due(database, clock.now() + timedelta(days=30))
    assert referral_points(database, "referrer") == 500
    assert referral_points(database, "friend") == 150
    with database.transaction() as session:
        assert verify(session) == []


@pytest.mark.parametrize(
    "customer",
    [
        {"email": "bob@example.com"},  # the same email: the same card
        {"email": "bob.other@example.com", "phone": "+44 7911 123456"},
    ],
)
def test_a_self_referral_is_recorded_cancelled_and_pays_nothing(
    client: FlaskClient,
    shop: Program,
    make_card: MakeCard,
    database: Database,
    clock: FixedClock,
    customer: dict[str, str],
) -> None:
    referrer = make_card(shop, email="bob@example.com", phone="+447911123456", name="Bob")
    email = customer.pop("email")
    post(client, clock, order(clock, 1, email, code_of(referrer), **customer))
    clock.advance(timedelta(days=HOLD_DAYS + 1))
    run_due(database, clock.now())
    assert referral_points(database, "referrer") == 0
    assert referral_points(database, "friend") == 0
    ((status, reason),) = rows(database)
    assert status == "cancelled" and reason is not None and reason.startswith("self-referral")


def test_a_refund_inside_the_hold_cancels_the_referral(
    client: FlaskClient, shop: Program, make_card: MakeCard, database: Database, clock: FixedClock
) -> None:
    referrer = make_card(shop, email="bob@example.com", name="Bob")
    post(client, clock, order(clock, 1, "ann@example.com", code_of(referrer)))
    clock.advance(timedelta(days=2))
    refund = {
        "id": "evt-r",
        "type": "order.cancelled",
        "order": {"id": "A-1", "currency": "USD"},
        "customer": {"email": "ann@example.com"},
    }
    post(client, clock, refund)
    clock.advance(timedelta(days=HOLD_DAYS))
    run_due(database, clock.now())
    assert rows(database) == [("cancelled", "the friend's first order was refunded or cancelled")]
    assert referral_points(database, "referrer") == 0


def test_the_monthly_cap_records_the_excess_as_capped(
    client: FlaskClient,
    make_program: MakeProgram,
    make_card: MakeCard,
    database: Database,
    clock: FixedClock,
) -> None:
    shop = make_program(
        referral={**REFERRAL, "max_per_month": 1},
        webhooks={"orders_secret": ORDERS_SECRET},
        hold={"days": HOLD_DAYS},
    )
    referrer = make_card(shop, email="bob@example.com", name="Bob")
    post(client, clock, order(clock, 1, "ann@example.com", code_of(referrer)))
    post(client, clock, order(clock, 2, "cat@example.com", code_of(referrer)))
    clock.advance(timedelta(days=HOLD_DAYS + 1))
    run_due(database, clock.now())
    assert [status for status, _ in rows(database)] == ["paid", "capped"]
    assert referral_points(database, "referrer") == 500


def test_the_ref_code_is_carried_through_the_join_page(
    client: FlaskClient, make_program: MakeProgram, make_card: MakeCard, database: Database
) -> None:
    shop = make_program(join={**JOIN, "confirm_email": False}, referral=REFERRAL)
    referrer = make_card(shop, email="bob@example.com", name="Bob")
    code = code_of(referrer)
    link = client.get(f"/r/{code}")
    assert link.status_code == 302 and link.headers["Location"] == f"/join/demo?ref={code}"
    page = client.get(f"/join/demo?ref={code}")
    assert f'name="ref" value="{code}"' in page.get_data(as_text=True)
    assert sign_up(client, query=f"?ref={code}", ref=code).status_code == 303
    assert rows(database) == [("pending", None)]
    assert referral_points(database, "friend") == 150


def test_the_link_leads_to_the_shop_without_a_join_page(
    client: FlaskClient, shop: Program, make_card: MakeCard
) -> None:
    code = code_of(make_card(shop, email="bob@example.com", name="Bob"))
    link = client.get(f"/r/{code}")
    assert link.status_code == 302
    assert link.headers["Location"] == f"https://shop.demo-coffee.example?ref={code}"


@pytest.mark.parametrize("code", ["nope", "b" * 9, "b6hejwvve", "x" * 5000, "b\x00hejwvve"])
def test_an_unknown_referral_code_is_a_404_page(
    client: FlaskClient, shop: Program, code: str
) -> None:
    answer = client.get(f"/r/{code}")
    assert answer.status_code == 404 and answer.mimetype == "text/html"


def test_the_card_shows_its_referral_link(
    client: FlaskClient, shop: Program, make_card: MakeCard
) -> None:
    card = make_card(shop, email="bob@example.com", name="Bob")
    page = client.get(f"/c/{card.public_token}").get_data(as_text=True)
    assert f"/r/{code_of(card)}" in page


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"friend_reward": 10}, "referral.referrer_points"),
        (
            {"referrer_points": 10, "friend_reward": {"amount": "5.00"}},
            "referral.friend_reward.amount",
        ),
        (
            {"referrer_points": 10, "friend_reward": {"discount": "0"}},
            "referral.friend_reward.discount",
        ),
        (
            {"referrer_points": 10, "friend_reward": {"discount": "1.001"}},
            "referral.friend_reward.discount",
        ),
        ({"referrer_points": 10, "friend_reward": {"discount": "5.00"}}, "referral.friend_reward"),
        ({"referrer_points": 10, "friend_reward": "5.00"}, "referral.friend_reward"),
        ({"referrer_points": -1}, "referral.referrer_points"),
        ({"referrer_points": 10, "max_per_month": 1.5}, "referral.max_per_month"),
        ({"referrer_points": 10, "bonus": 1}, "referral.bonus"),
    ],
)
def test_referral_table_problems_name_their_field(table: dict[str, Any], field: str) -> None:
    with pytest.raises(ProgramConfigError) as raised:
        parse_program(demo_document(referral=table))
    assert field in [where for where, _ in raised.value.problems], raised.value.problems
