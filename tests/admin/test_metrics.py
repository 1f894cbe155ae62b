"""Every dashboard number against a hand-computed fixture.

The range is 2026-03-07 .. 2026-03-09 in America/New_York (the demo programme's zone), which
crosses the switch to summer time on 8 March: the local days start at 05:00Z, 05:00Z, 04:00Z
and the range ends at 2026-03-10 04:00Z. Rows are written straight into the tables so that
each number below can be worked out by hand from this file alone.
"""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.cashier.conftest import cashier, make_staff, manager  # noqa: F401  (fixtures)
from tests.cashier.test_api import login as till_login
from tests.conftest import MakeCard, MakeProgram
from tests.orders.conftest import app, client  # noqa: F401  (fixtures)
from walletcards.admin.metrics import dashboard
from walletcards.admin.period import Period, parse_period
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, LedgerEntry, Lot, Order, Program

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
RANGE = "from=2026-03-07&to=2026-03-09"
_keys = itertools.count()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def entry(card: Card, kind: str, points: int, when: str) -> LedgerEntry:
    return LedgerEntry(
        program_id=card.program_id,
        card_id=card.id,
        kind=kind,
        points=points,
        idempotency_key=f"fixture:{next(_keys)}",
        input_hash="0" * 64,
        cause="fixture",
        created_at=at(when),
    )


def order(
    card: Card, total: int, when: str, status: str = "paid", refunded: int = 0, repeat: bool = False
) -> Order:
    return Order(
        program_id=card.program_id,
        card_id=card.id,
        source="orders",
        external_id=f"o-{next(_keys)}",
        currency="USD",
        total_minor=total,
        eligible_minor=total,
        refunded_minor=refunded,
        refunded_eligible_minor=refunded,
        status=status,
        is_repeat=repeat,
        paid_at=at(when),
        created_at=at(when),
    )


def lot(card: Card, remaining: int, expires: datetime | None, source: LedgerEntry) -> Lot:
    return Lot(
        program_id=card.program_id,
        card_id=card.id,
        entry_id=source.id,
        points=max(remaining, 1),
        remaining=remaining,
        released=True,
        available_at=at("2026-03-01T00:00:00"),
        expires_at=expires,
    )


@pytest.fixture
def seeded(
    database: Database, program: Program, make_program: MakeProgram, make_card: MakeCard
) -> dict[str, Card]:
    other = make_program(slug="other", name="Other shop")
    created = {
        "A": "2026-03-01T12:00:00",  # before the range
        "B": "2026-03-07T04:59:00",  # 23:59 on 6 March, New York: before the range
        "C": "2026-03-07T05:00:00",  # 00:00 on 7 March: day 1
        "D": "2026-03-09T04:30:00",  # 00:30 on 9 March (summer time): day 3, not day 2
        "E": "2026-03-10T04:00:00",  # 00:00 on 10 March: after the range
    }
    tiers = {"A": "gold", "B": "silver", "C": "gold", "D": None, "E": "bronze"}
    cards = {name: make_card(program, email=f"{name.lower()}@example.com") for name in created}
    stranger = make_card(other, email="x@example.com")
    with database.transaction() as session:
        for name, card in cards.items():
            row = session.get(Card, card.id)
            assert row is not None
            row.created_at, row.tier_code = at(created[name]), tiers[name]
            cards[name] = row
        outsider = session.get(Card, stranger.id)
        assert outsider is not None
        outsider.created_at = at("2026-03-08T12:00:00")
        a, b, c, d, e = (cards[name] for name in "ABCDE")
        entries = [
            entry(a, "earn", 100, "2026-03-07T12:00:00"),  # day 1 issued
            entry(c, "bonus", 300, "2026-03-07T13:00:00"),  # day 1 issued
            entry(a, "redeem", 50, "2026-03-08T15:00:00"),  # day 2 spent
            entry(a, "reversal", 20, "2026-03-08T16:00:00"),  # neither
            entry(a, "expiry", 10, "2026-03-08T17:00:00"),  # neither
            entry(d, "earn", 200, "2026-03-09T05:00:00"),  # day 3 issued
            entry(d, "redeem", 70, "2026-03-09T06:00:00"),  # day 3 spent
            entry(d, "restore", 10, "2026-03-09T07:00:00"),  # day 3: 10 of them given back
            entry(a, "earn", 1000, "2026-03-10T04:00:00"),  # after the range
            entry(b, "earn", 999, "2026-03-07T04:59:00"),  # before the range
            entry(outsider, "earn", 5000, "2026-03-08T12:00:00"),  # another programme
            entry(outsider, "redeem", 4000, "2026-03-08T13:00:00"),
        ]
        session.add_all(entries)
        first_order = order(d, 3000, "2026-03-09T05:00:00", "refunded", refunded=3000)
        session.add(first_order)
        session.flush()
        session.add_all(
            [
                order(a, 9000, "2026-03-02T12:00:00"),  # before the range
                order(a, 5000, "2026-03-07T12:00:00", repeat=True),  # day 1
                order(c, 2000, "2026-03-07T13:00:00"),  # day 1, first
                order(c, 7000, "2026-03-08T14:00:00", "cancelled", repeat=True),  # not counted
                order(c, 4000, "2026-03-09T12:00:00", repeat=True),  # day 3
                order(d, 1500, "2026-03-09T05:00:00", repeat=True),  # day 3
                order(b, 8000, "2026-03-01T12:00:00", "cancelled"),  # not an earlier order
                order(b, 1000, "2026-03-08T10:00:00"),  # day 2: the earlier one was cancelled
                order(e, 9900, "2026-03-10T05:00:00"),  # after the range
                order(outsider, 99000, "2026-03-08T12:00:00"),  # another programme
            ]
        )
        source = entries[0]
        session.add_all(
            [
                lot(a, 40, NOW + timedelta(days=1), source),  # expiring
                lot(a, 0, NOW + timedelta(days=2), source),  # spent already
                lot(c, 60, NOW + timedelta(days=30) - timedelta(seconds=1), source),  # expiring
                lot(c, 70, NOW + timedelta(days=30), source),  # just outside the window
                lot(d, 80, NOW - timedelta(hours=1), source),  # already past
                lot(d, 90, None, source),  # never expires
                lot(outsider, 500, NOW + timedelta(days=1), entries[10]),  # another programme
            ]
        )
    return cards


EXPECTED_SERIES = [
    # label, members at the end, new, issued, spent, orders, repeat orders
    ("2026-03-07", 3, 1, 400, 0, 2, 1),
    ("2026-03-08", 3, 0, 0, 50, 1, 0),
    ("2026-03-09", 4, 1, 200, 60, 3, 2),
]


def test_every_dashboard_number_matches_the_hand_computed_fixture(
    database: Database, program: Program, seeded: dict[str, Card]
) -> None:
    period = Period(datetime(2026, 3, 7).date(), datetime(2026, 3, 9).date(), "America/New_York")
    with database.transaction() as session:
        numbers = dashboard(session, program, period, NOW)
    assert [tuple(p.__dict__.values()) for p in numbers.series] == EXPECTED_SERIES
    assert (numbers.members, numbers.new_members) == (4, 2)
    assert (numbers.issued, numbers.spent, numbers.spent_share) == (600, 110, 0.1833)
    assert (numbers.orders, numbers.repeat_orders, numbers.repeat_rate) == (6, 3, 0.5)
    assert [(t.code, t.members) for t in numbers.tiers] == [
        (None, 1),
        ("bronze", 1),
        ("silver", 1),
        ("gold", 2),
    ]
    assert (numbers.top_tier, numbers.top_tier_share) == ("gold", 0.4)
    assert numbers.expiring_30_days == 100  # 40 + 60
    top = [(c.email, c.orders, c.spend_minor) for c in numbers.top_customers]
    assert top == [
        ("c@example.com", 2, 6000),  # 2000 + 4000; the cancelled 7000 left out
        ("a@example.com", 1, 5000),
        ("d@example.com", 2, 1500),  # 3000 refunded in full + 1500
        ("b@example.com", 1, 1000),
    ]


def test_an_empty_programme_shows_zeros_and_no_shares(database: Database, program: Program) -> None:
    with database.transaction() as session:
        numbers = dashboard(session, program, parse_period(None, None, "UTC", NOW), NOW)
    assert len(numbers.series) == 30 and numbers.series[-1].label == "2026-03-09"
    assert (numbers.members, numbers.issued, numbers.orders) == (0, 0, 0)
    assert (numbers.spent_share, numbers.repeat_rate, numbers.top_tier_share) == (None,) * 3
    assert numbers.top_customers == []


def test_long_ranges_are_bucketed_by_week_and_by_month() -> None:
    weeks = parse_period("2025-01-01", "2025-12-31", "UTC", NOW)
    months = parse_period("2020-01-15", "2025-12-31", "UTC", NOW)
    assert weeks.step == "week" and len(weeks.buckets()) == 53
    assert months.step == "month" and len(months.buckets()) == 72
    assert [b.label.isoformat() for b in months.buckets()[:2]] == ["2020-01-15", "2020-02-01"]
    assert months.buckets()[-1].end == months.end


def login(client: FlaskClient, email: str) -> Any:
    return till_login(client, area="admin", email=email)


def test_the_dashboard_page_shows_the_four_key_numbers_and_exports_csv(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    seeded: dict[str, Card],
    manager: dict[str, str],
) -> None:
    clock.set(NOW)
    assert login(client, "boss@example.com").headers["Location"] == "/admin/"
    page = client.get(f"/admin/?{RANGE}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for kpi, value in [
        ("members", "4"),
        ("spent-share", "18.3 %"),
        ("repeat-rate", "50.0 %"),
        ("top-tier", "40.0 %"),
        ("expiring", "100"),
    ]:
        assert f'id="kpi-{kpi}"><span class="value">{value}</span>' in html
    assert html.count("<svg") == 4 and "60.00 USD" in html
    assert '<a href="/admin/?from=2026-03-03&amp;to=2026-03-09">7 days</a>' in html
    exported = client.get(f"/admin/export.csv?table=series&{RANGE}")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0] == ["label", "members", "new_members", "issued", "spent", "orders",
                       "repeat_orders"]  # fmt: skip
    assert [tuple(r[:1]) + tuple(int(v) for v in r[1:]) for r in rows[1:]] == EXPECTED_SERIES
    customers = client.get(f"/admin/export.csv?table=top_customers&{RANGE}")
    assert customers.get_data(as_text=True).count("\r\n") == 5  # header + 4 customers


def test_metrics_api_answers_the_same_numbers(
    client: FlaskClient,
    clock: FixedClock,
    seeded: dict[str, Card],
    manager: dict[str, str],
    cashier: dict[str, str],
) -> None:
    clock.set(NOW)
    answer = client.get(f"/api/v1/programs/demo/metrics?{RANGE}", headers=manager)
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["members"], body["spent_share"], body["repeat_rate"]) == (4, 0.1833, 0.5)
    assert (body["top_tier_share"], body["expiring_30_days"]) == (0.4, 100)
    forbidden = client.get(f"/api/v1/programs/demo/metrics?{RANGE}", headers=cashier)
    assert forbidden.status_code == 403
    bad = client.get("/api/v1/programs/demo/metrics?from=2026-03-09&to=2026-03-01", headers=manager)
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_range"


def test_a_cashier_is_refused_the_dashboard_and_its_exports(
    client: FlaskClient,
    database: Database,
    cashier: dict[str, str],
) -> None:
    login(client, "till1@example.com")
    assert client.get("/admin/").status_code == 403
    refused = client.get("/admin/export.csv")
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"


def test_the_dashboard_needs_a_session_and_rejects_bad_input(
    client: FlaskClient,
    database: Database,
    manager: dict[str, str],
) -> None:
    signed_out = client.get("/admin/")
    assert signed_out.status_code == 200 and 'action="/admin/login"' in signed_out.text
    assert client.get("/admin/export.csv").status_code == 401
    forged = client.post("/admin/login", data={"program": "demo", "email": "x", "password": "y"})
    assert forged.status_code == 400 and forged.json["error"]["code"] == "csrf"
    login(client, "boss@example.com")
    for query in ["from=2026-13-01", "from=2026-03-09&to=2026-03-01", "from=1900-01-01"]:
        page = client.get(f"/admin/?{query}")
        assert page.status_code == 400 and 'role="alert"' in page.text
    for query in ["table=secrets", "from=yesterday", "from=2000-01-01&to=2099-01-01"]:
        answer = client.get(f"/admin/export.csv?{query}")
        assert answer.status_code == 422 and set(answer.json["error"]) == {"code", "message"}


def test_csv_cells_that_spreadsheets_would_run_are_defused(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    make_card: MakeCard,
    program: Program,
    manager: dict[str, str],
) -> None:
    clock.set(NOW)
    card = make_card(program, email="evil@example.com", name='=HYPERLINK("http://x")')
    with database.transaction() as session:
        session.add(order(card, 100, "2026-03-09T12:00:00"))
    login(client, "boss@example.com")
    text = client.get(f"/admin/export.csv?table=top_customers&{RANGE}").get_data(as_text=True)
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
