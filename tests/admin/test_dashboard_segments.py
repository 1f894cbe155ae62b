# ruff: noqa: RUF001  (Russian text and the page's en dash on purpose)
"""The dashboard's segments and campaigns panels: the RFM grid's counts, every segment's recorded
sizes, each campaign's figures, the members CSV with the page's session, and the language."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.admin.seed import order
from tests.admin.test_dashboard_page import cells
from tests.admin.test_metrics import login
from tests.kit.database import T0
from tests.kit.programs import MakeCard, MakeProgram
from tests.kit.web import json_of
from walletcards.admin.charts import sparkline
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import awards
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.loyalty.segment_models import RfmCuts, SegmentSize

DOUBLE = {
    "code": "double",
    "name": {"en": "Double days", "ru": "Двойные баллы"},
    "kind": "multiplier",
    "multiplier": "2",
    "starts": "2026-02-20",
    "ends": "2026-03-08",
}
LATER = {**DOUBLE, "code": "later", "name": "Black Friday", "starts": "2026-11-27"}
LATER["ends"] = "2026-11-30"
WIN_BACK = {"code": "win-back", "name": {"en": "Win back", "ru": "Вернуть"}}


@pytest.fixture
def program(make_program: MakeProgram) -> Program:
    return make_program(
        segments=[{**WIN_BACK, "last_order_before_days": 90}], campaigns=[DOUBLE, LATER]
    )


CUTS: dict[str, object] = {f"{k}{i}": 10 * i for k in "fm" for i in (1, 2, 3, 4)}
CUTS |= {f"r{i}": T0 + timedelta(days=10 * i) for i in (1, 2, 3, 4)}


def scored_card(session: Session, card: Card, score: tuple[int, int, int]) -> None:
    """Give the card order facts that the cut points in CUTS score as ``score`` (the middle of
    the score's interval: 5, 15, 25, 35, 45)."""
    r, f, m = (10 * value - 5 for value in score)
    merged = session.get_one(Card, card.id)
    merged.last_order_at, merged.orders_count, merged.spend_minor = T0 + timedelta(days=r), f, m


@pytest.fixture
def scored(
    database: Database, program: Program, make_program: MakeProgram, make_card: MakeCard
) -> None:
    other = make_program(slug="other", name="Other shop")
    ours = [(5, 5, 5), (5, 5, 5), (5, 4, 5), (5, 4, 3), (1, 1, 2), (3, 2, 3), (2, 5, 5)]
    cards = [(make_card(program, email=f"c{i}@example.com"), s) for i, s in enumerate(ours)]
    cards.append((make_card(other, email="o@example.com"), (5, 5, 5)))
    with database.transaction() as session:
        for card, score in cards:
            scored_card(session, card, score)
        for owner in (program, other):
            session.add(RfmCuts(program_id=owner.id, scored_at=T0, scored=1, sampled=1, **CUTS))
        sizes = [
            ("all", date(2026, 1, 1), 99),  # before the page's 30 days
            ("all", date(2026, 2, 27), 10),
            ("all", date(2026, 2, 28), 12),
            ("all", date(2026, 3, 1), 15),
            ("champions", date(2026, 3, 1), 3),
        ]
        session.add_all(
            SegmentSize(program_id=program.id, day=day, segment=code, size=size)
            for code, day, size in sizes
        )
        session.add(SegmentSize(program_id=other.id, day=date(2026, 3, 1), segment="all", size=7))


def page(client: FlaskClient, lang: str = "en") -> str:
    response = client.get("/admin/", headers={"Accept-Language": lang})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_rfm_grid_counts_the_programmes_cards_in_each_cell(
    client: FlaskClient, scored: None, manager: dict[str, str]
) -> None:
    login(client, "boss@example.com")
    grid = cells(page(client), "rfm-grid")
    assert len(grid) == 5 and all(len(row) == 5 for row in grid)
    assert grid[0] == [  # recency 5; FM rounds half up: (4 + 5) / 2 -> 5, (4 + 3) / 2 -> 4
        "New<b>0</b>",
        "Potential loyalists<b>0</b>",
        "Potential loyalists<b>0</b>",
        "Champions<b>1</b>",
        "Champions<b>3</b>",
    ]
    assert grid[2][2] == "Need attention<b>1</b>"  # recency 3, FM 3
    assert grid[3][4] == "Can&#39;t lose them<b>1</b>"  # recency 2, FM 5
    assert grid[4][1] == "Lost<b>1</b>"  # recency 1, FM (1 + 2) / 2 -> 2
    total = sum(int(cell.split("<b>")[1].split("<")[0]) for row in grid for cell in row)
    assert total == 7  # the other programme's card is not counted


def test_segment_sizes_show_the_latest_recorded_day_and_the_change_in_the_range(
    client: FlaskClient, scored: None, manager: dict[str, str]
) -> None:
    login(client, "boss@example.com")
    rows = {row[0]: row for row in cells(page(client), "segment-sizes")}
    assert len(rows) == 12  # all, ten RFM groups, one rule segment
    assert rows["All members"][1:3] == ["15", "+5"]
    assert rows["All members"][3].startswith('<svg class="spark"')
    assert rows["Champions"][1:4] == ["3", "+0", ""]  # one day: nothing to draw
    assert rows["Win back"][1:3] == ["—", "—"]  # never recorded
    assert 'href="/admin/segments/win-back/members.csv"' in rows["Win back"][4]


def test_the_campaign_table_shows_reach_points_and_orders_against_before(
    client: FlaskClient,
    database: Database,
    program: Program,
    make_card: MakeCard,
    clock: FixedClock,
    manager: dict[str, str],
) -> None:
    card = make_card(program, email="ann@example.com")
    with database.transaction() as session:
        facts = OrderFacts("orders", "1", "USD", clock.now(), (OrderLine(1000),))
        awards.award_paid_order(session, program, card.id, facts, clock.now())
        row = session.get(Card, card.id)
        assert row is not None
        session.add(order(row, 2500, "2026-02-15T12:00:00"))  # in the same length before
        session.add(order(row, 9900, "2026-02-01T12:00:00"))  # earlier still: not counted
    login(client, "boss@example.com")
    rows = {row[0]: row for row in cells(page(client), "campaigns")}
    assert rows["Double days"][1:] == [
        "running",
        "2026-02-20 00:00 – 2026-03-09 00:00",
        "1",
        "50",
        "1",
        "1",
        "10.00 USD",
        "25.00 USD",
    ]
    assert (
        rows["Black Friday"][1:] == ["scheduled", "2026-11-27 00:00 – 2026-12-01 00:00"] + ["—"] * 6
    )
    api = json_of(client.get("/api/v1/programs/demo/campaigns", headers=manager))
    assert api["campaigns"][0]["figures"]["reach"] == 1  # the same figures as the owner's API


def test_the_panels_speak_the_staff_browsers_language(
    client: FlaskClient, scored: None, manager: dict[str, str]
) -> None:
    login(client, "boss@example.com")
    html = page(client, "ru")
    assert "Чемпионы<b>3</b>" in html and "Сегменты RFM" in html
    rows = {row[0]: row for row in cells(html, "segment-sizes")}
    assert "Вернуть" in rows and "Все участники" in rows
    campaigns = {row[0]: row for row in cells(html, "campaigns")}
    assert campaigns["Двойные баллы"][1] == "идёт"
    assert "Champions" not in html
    assert "冠军客户" in page(client, "zh")


def members(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_a_segments_members_csv_downloads_with_the_dashboard_session(
    client: FlaskClient, program: Program, make_card: MakeCard, manager: dict[str, str]
) -> None:
    card = make_card(program, email="ann@example.com", name="=cmd")
    login(client, "boss@example.com")
    for code in ("all", "win-back"):
        response = client.get(f"/admin/segments/{code}/members.csv")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert response.headers["Cache-Control"] == "no-store"
        (row,) = members(response)
        assert (row["member_number"], row["name"]) == (card.member_number, "'=cmd")
    assert members(client.get("/admin/segments/champions/members.csv")) == []  # nobody scored yet
    # the owner's API wants the X-CSRF-Token header a link cannot send: hence the page's route
    api = client.get("/api/v1/programs/demo/segments/all/members.csv")
    assert api.status_code == 403 and json_of(api)["error"]["code"] == "csrf"


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/admin/segments/nobody/members.csv", 404, "unknown_segment"),
        ("/admin/segments/BAD/members.csv", 404, "unknown_segment"),
        ("/admin/segments/" + "a" * 5000 + "/members.csv", 404, "unknown_segment"),
        ("/admin/segments/a%00b/members.csv", 422, "invalid_text"),
    ],
)
def test_bad_segment_codes_are_clear_errors(
    client: FlaskClient, manager: dict[str, str], url: str, status: int, code: str
) -> None:
    login(client, "boss@example.com")
    response = client.get(url)
    assert response.status_code == status and json_of(response)["error"]["code"] == code


def test_a_cashier_sees_neither_the_panels_nor_the_members(
    client: FlaskClient, scored: None, cashier: dict[str, str]
) -> None:
    assert client.get("/admin/segments/all/members.csv").status_code == 401  # signed out
    login(client, "till1@example.com")
    html = client.get("/admin/").get_data(as_text=True)
    assert "rfm-grid" not in html and "segment-sizes" not in html and "campaigns" not in html
    refused = client.get("/admin/segments/all/members.csv")
    assert refused.status_code == 403 and json_of(refused)["error"]["code"] == "forbidden"


@pytest.mark.once
def test_a_sparkline_needs_two_values_and_escapes_its_title() -> None:
    assert sparkline("x", [5]) == ""
    drawn = sparkline("<b>", [0, 10, 5])
    assert "&lt;b&gt;" in drawn and drawn.count(",") == 3
