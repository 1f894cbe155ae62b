"""The dashboard's referral counts: made in the range, and settled in it as paid, refused
(self-referral, over the monthly cap) or cancelled; nothing of another programme or outside
the range, and no panel for a programme without ``[referral]``."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.admin.seed import NOW, at
from tests.admin.test_dashboard_page import cells
from tests.admin.test_metrics import login
from tests.kit.programs import MakeCard, MakeProgram
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.referral_models import Referral

IN = "2026-03-08T12:00:00"  # inside the page's range (7-9 March, New York)
BEFORE = "2026-03-01T12:00:00"


REFERRAL = {"referrer_points": 500, "friend_reward": 150}


@pytest.fixture
def program(make_program: MakeProgram, request: pytest.FixtureRequest) -> Program:
    table = getattr(request, "param", REFERRAL)
    return make_program(referral=table) if table else make_program()


def referral(
    referrer: Card, friend: Card, status: str, made: str, settled: str | None, reason: str | None
) -> Referral:
    return Referral(
        program_id=referrer.program_id,
        referrer_card_id=referrer.id,
        friend_card_id=friend.id,
        via="join",
        status=status,
        reason=reason,
        created_at=at(made),
        settled_at=None if settled is None else at(settled),
    )


@pytest.fixture
def referred(
    database: Database, program: Program, make_program: MakeProgram, make_card: MakeCard
) -> None:
    other = make_program(slug="other", name="Other shop", referral={"referrer_points": 1})
    bob = make_card(program, email="bob@example.com")
    friends = [make_card(program, email=f"f{i}@example.com") for i in range(7)]
    stranger, theirs = (make_card(other, email=f"{n}@example.com") for n in ("s", "t"))
    over = "over max_per_month (1)"
    voided = "the friend's first order was refunded or cancelled"
    rows = [
        ("pending", IN, None, None),  # made, pending
        ("paid", IN, IN, None),  # made and paid in the range
        ("paid", BEFORE, IN, None),  # made before, paid in the range
        ("paid", BEFORE, BEFORE, None),  # all before the range
        ("cancelled", IN, IN, "self-referral: the same email"),
        ("capped", BEFORE, IN, over),
        ("cancelled", BEFORE, IN, voided),
    ]
    with database.transaction() as session:
        for friend, (status, made, settled, reason) in zip(friends, rows, strict=True):
            session.add(referral(bob, friend, status, made, settled, reason))
        session.add(referral(stranger, theirs, "paid", IN, IN, None))


def test_the_referral_panel_counts_the_ranges_referrals_by_outcome(
    client: FlaskClient,
    clock: FixedClock,
    referred: None,
    manager: dict[str, str],
) -> None:
    clock.set(NOW)
    login(client, "boss@example.com")
    html = client.get("/admin/?from=2026-03-07&to=2026-03-09").get_data(as_text=True)
    # made, still pending, paid, self-referral, monthly cap, order refunded
    assert cells(html, "referrals") == [["3", "1", "2", "1", "1", "1"]]


@pytest.mark.parametrize("program", [None], indirect=True)
def test_no_referral_panel_without_a_referral_table(
    client: FlaskClient, clock: FixedClock, manager: dict[str, str]
) -> None:
    clock.set(NOW)
    login(client, "boss@example.com")
    html = client.get("/admin/").get_data(as_text=True)
    assert 'id="rfm-grid"' in html  # the page's panels are there
    assert 'id="referrals"' not in html


def test_a_referral_made_just_before_local_midnight_is_not_in_the_range(
    client: FlaskClient,
    clock: FixedClock,
    database: Database,
    program: Program,
    make_card: MakeCard,
    manager: dict[str, str],
) -> None:
    bob, ann = make_card(program, email="bob@example.com"), make_card(program, email="a@x.org")
    with database.transaction() as session:
        row = referral(bob, ann, "pending", IN, None, None)
        row.created_at = at("2026-03-07T04:59:00")  # 23:59 on 6 March in New York
        session.add(row)
    clock.set(NOW)
    login(client, "boss@example.com")
    html = client.get("/admin/?from=2026-03-07&to=2026-03-09").get_data(as_text=True)
    assert cells(html, "referrals") == [["0", "0", "0", "0", "0", "0"]]
