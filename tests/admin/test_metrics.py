"""Every dashboard number against a hand-computed fixture.

The range is 2026-03-07 .. 2026-03-09 in America/New_York (the demo programme's zone), which
crosses the switch to summer time on 8 March: the local days start at 05:00Z, 05:00Z, 04:00Z
and the range ends at 2026-03-10 04:00Z. Rows are written straight into the tables so that
each number below can be worked out by hand from this file alone.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from flask.testing import FlaskClient

from tests.admin.seed import NOW, RANGE, order
from tests.cashier.test_api import login as till_login
from tests.kit.programs import MakeCard
from tests.kit.web import json_of
from walletcards.admin.metrics import dashboard
from walletcards.admin.period import Period, parse_period
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program

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
    body = json_of(answer)
    assert (body["members"], body["spent_share"], body["repeat_rate"]) == (4, 0.1833, 0.5)
    assert (body["top_tier_share"], body["expiring_30_days"]) == (0.4, 100)
    forbidden = client.get(f"/api/v1/programs/demo/metrics?{RANGE}", headers=cashier)
    assert forbidden.status_code == 403
    bad = client.get("/api/v1/programs/demo/metrics?from=2026-03-09&to=2026-03-01", headers=manager)
    assert bad.status_code == 422 and json_of(bad)["error"]["code"] == "invalid_range"


def test_a_cashier_is_refused_the_dashboard_and_its_exports(
    client: FlaskClient,
    database: Database,
    cashier: dict[str, str],
) -> None:
    login(client, "till1@example.com")
    assert client.get("/admin/").status_code == 403
    refused = client.get("/admin/export.csv")
    assert refused.status_code == 403 and json_of(refused)["error"]["code"] == "forbidden"


def test_the_dashboard_needs_a_session_and_rejects_bad_input(
    client: FlaskClient,
    database: Database,
    manager: dict[str, str],
) -> None:
    signed_out = client.get("/admin/")
    assert signed_out.status_code == 200 and 'action="/admin/login"' in signed_out.text
    assert client.get("/admin/export.csv").status_code == 401
    forged = client.post("/admin/login", data={"program": "demo", "email": "x", "password": "y"})
    assert forged.status_code == 400 and json_of(forged)["error"]["code"] == "csrf"
    login(client, "boss@example.com")
    for query in ["from=2026-13-01", "from=2026-03-09&to=2026-03-01", "from=1900-01-01"]:
        page = client.get(f"/admin/?{query}")
        assert page.status_code == 400 and 'role="alert"' in page.text
    for query in ["table=secrets", "from=yesterday", "from=2000-01-01&to=2099-01-01"]:
        answer = client.get(f"/admin/export.csv?{query}")
        assert answer.status_code == 422 and set(json_of(answer)["error"]) == {"code", "message"}


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
