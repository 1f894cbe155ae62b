"""Time-driven changes with a fixed clock: each produces exactly one push."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.fakes.apns import FakeApns
from tests.kit.passes import fields, pass_json, token_of, unpack
from tests.kit.programs import MakeCard, MakeProgram
from tests.kit.webhooks import ORDERS_SECRET, post_orders
from tests.sync.test_push import register
from walletcards.cli import main
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import awards
from walletcards.loyalty.models import Card, Customer, LedgerEntry
from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.loyalty.verify import verify
from walletcards.sync.jobs import run_due
from walletcards.sync.worker import Worker

PUSH = "ab" * 32


def first_order(client: FlaskClient, clock: FixedClock, birthday: str | None = None) -> str:
    body = {
        "id": "evt-1",
        "type": "order.paid",
        "order": {
            "id": "A-1",
            "currency": "USD",
            "paid_at": clock.now().isoformat(),
            "lines": [{"amount": "50.00"}],
        },
        "customer": {"id": "c-1", "email": "c@example.com", "birthday": birthday},
    }
    response = post_orders(client, body, at=int(clock.now().timestamp()))
    assert response.json is not None
    return token_of(response.json)


def pushes_after_jobs(database: Database, worker: Worker, apns: FakeApns, at: datetime) -> int:
    before = len(apns.pushes_to(PUSH))
    run_due(database, at)
    worker.drain()
    return len(apns.pushes_to(PUSH)) - before


def test_hold_release_warning_and_expiry_each_push_once(
    client: FlaskClient, database: Database, clock: FixedClock, apns: FakeApns, worker: Worker
) -> None:
    token = first_order(client, clock)  # 250 base + 300 welcome, held 14 days
    serial, secret = register(client, database, token, "phone", PUSH)
    worker.drain()
    t0 = clock.now()
    # Day 14: the hold ends -> released (one push), and again nothing more at the same moment.
    assert pushes_after_jobs(database, worker, apns, t0 + timedelta(days=14)) == 1
    assert pushes_after_jobs(database, worker, apns, t0 + timedelta(days=14)) == 0
    # The welcome lot expires at day 44; the warning comes 10 days ahead, once.
    assert pushes_after_jobs(database, worker, apns, t0 + timedelta(days=34, hours=1)) == 1
    assert pushes_after_jobs(database, worker, apns, t0 + timedelta(days=35)) == 0
    clock.set(t0 + timedelta(days=35))
    page = client.get(
        f"/passkit/v1/passes/pass.com.example.tests/{serial}",
        headers={"Authorization": f"ApplePass {secret}"},
    )
    assert (
        fields(pass_json(unpack(page.data)))["expiring"]["value"] == "300 points expire on Apr 14"
    )
    # Day 44: the welcome lot expires (one push).
    assert pushes_after_jobs(database, worker, apns, t0 + timedelta(days=44, hours=1)) == 1
    with database.transaction() as session:
        card = session.execute(select(Card)).scalar_one()
        kinds = session.execute(select(LedgerEntry.kind).order_by(LedgerEntry.id)).scalars().all()
    assert (card.available, card.pending) == (250, 0)
    assert kinds == ["earn", "bonus", "release", "release", "expiry"]


def test_birthday_bonus_pushes_once(
    client: FlaskClient, database: Database, clock: FixedClock, apns: FakeApns, worker: Worker
) -> None:
    token = first_order(client, clock, birthday="1990-03-20")
    register(client, database, token, "phone", PUSH)
    worker.drain()
    birthday_noon_ny = datetime(2026, 3, 20, 17, 0, tzinfo=UTC)
    assert pushes_after_jobs(database, worker, apns, birthday_noon_ny) == 1
    assert pushes_after_jobs(database, worker, apns, birthday_noon_ny + timedelta(days=1)) == 0
    with database.transaction() as session:
        assert session.execute(select(Customer.birthday)).scalar_one() == date(1990, 3, 20)
        causes = session.execute(select(LedgerEntry.cause)).scalars().all()
    assert causes.count("birthday:2026") == 1


def test_jobs_run_due_command_accepts_a_moment(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    first_order(client, clock)
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    at = (clock.now() + timedelta(days=15)).isoformat()
    result = CliRunner().invoke(main, ["jobs", "run-due", "--now", at], env=env)
    assert result.exit_code == 0, result.output
    assert "holds_and_expiry: 2" in result.output
    bad = CliRunner().invoke(main, ["jobs", "run-due", "--now", "tomorrow"], env=env)
    assert bad.exit_code == 1 and "ISO-8601" in bad.output


def test_periodic_tiers_are_requalified_from_the_window(
    database: Database, make_program: MakeProgram, make_card: MakeCard, clock: FixedClock
) -> None:
    program = make_program(
        tiers={
            "qualify_by": "window_spend",
            "window_days": 30,
            "period": "requalify",
            "requalify_months": 1,
            "levels": [{"code": "vip", "name": "VIP", "threshold": "100.00"}],
        }
    )
    card = make_card(program, email="v@example.com")
    facts = OrderFacts("orders", "big", "USD", clock.now(), (OrderLine(20000),))
    with database.transaction() as session:
        awards.award_paid_order(session, program, card.id, facts, clock.now())
    assert tier_of(database, card.id) == "vip"
    assert run_due(database, clock.now() + timedelta(days=20))["tiers"] == 0  # not yet reviewed
    assert tier_of(database, card.id) == "vip"
    assert run_due(database, clock.now() + timedelta(days=35))["tiers"] == 1  # window is empty
    assert tier_of(database, card.id) is None


def tier_of(database: Database, card_id: int) -> str | None:
    with database.transaction() as session:
        return session.execute(select(Card.tier_code).where(Card.id == card_id)).scalar_one()


LEVELS = [
    {"code": "bronze", "name": "Bronze", "threshold": 1},
    {"code": "gold", "name": "Gold", "threshold": 4, "points_per_unit": "10"},
]
SPEND_LEVELS = [{"code": "gold", "name": "Gold", "threshold": "200.00"}]


@pytest.mark.parametrize(
    ("qualify_by", "levels", "amount"),
    [("paid_orders", LEVELS, 2000), ("lifetime_spend", SPEND_LEVELS, 5000)],
)
def test_a_requalifying_tier_lapses_after_idle_months(
    database: Database,
    make_program: MakeProgram,
    make_card: MakeCard,
    clock: FixedClock,
    qualify_by: str,
    levels: list[dict[str, Any]],
    amount: int,
) -> None:
    program = make_program(
        tiers={
            "qualify_by": qualify_by,
            "period": "requalify",
            "requalify_months": 12,
            "levels": levels,
        }
    )
    card = make_card(program, email="idle@example.com")
    for number in range(4):  # four $20 orders (4 orders: Gold) or $50 ($200: Gold)
        facts = OrderFacts("orders", str(number), "USD", clock.now(), (OrderLine(amount),))
        with database.transaction() as session:
            awards.award_paid_order(session, program, card.id, facts, clock.now())
    assert tier_of(database, card.id) == "gold"
    start = clock.now()
    assert run_due(database, start + timedelta(days=360))["tiers"] == 0  # within 12 months
    assert tier_of(database, card.id) == "gold"
    assert run_due(database, start + timedelta(days=13 * 31))["tiers"] == 1  # 13 idle months
    assert tier_of(database, card.id) is None  # was: Gold, counted over a lifetime
    assert run_due(database, start + timedelta(days=17 * 31))["tiers"] == 0
    assert tier_of(database, card.id) is None
    with database.transaction() as session:
        assert verify(session) == []


def test_jobs_run_due_lowers_a_requalifying_tier_at_the_moment_given(
    client: FlaskClient,
    database: Database,
    make_program: MakeProgram,
    apple_table: dict[str, str],
    clock: FixedClock,
) -> None:
    make_program(
        apple=apple_table,
        webhooks={"orders_secret": ORDERS_SECRET},
        tiers={"qualify_by": "paid_orders", "period": "requalify", "levels": LEVELS},
    )
    first_order(client, clock)  # Bronze, kept by buying again within 12 months
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    at = (clock.now() + timedelta(days=366)).isoformat()
    result = CliRunner().invoke(main, ["jobs", "run-due", "--now", at], env=env)
    assert result.exit_code == 0, result.output
    assert "tiers: 1" in result.output
    with database.transaction() as session:
        assert session.execute(select(Card.tier_code)).scalar_one() is None
