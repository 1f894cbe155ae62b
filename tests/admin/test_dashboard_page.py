"""What the dashboard page says: tier names, money, a bad range, the sign-in's programme list
(the numbers themselves: test_metrics.py)."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from tests.admin.seed import NOW, RANGE
from tests.admin.test_metrics import login
from tests.kit.programs import MakeProgram
from walletcards.admin.dashboard import money_text
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import SIGN_IN_CHOICES
from walletcards.staff.models import Staff


def cells(html: str, table: str) -> list[list[str]]:
    body = html.split(f'<table id="{table}">')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1], re.S)
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]


def test_tiers_are_spelled_as_the_programme_names_them_never_by_code(
    client: FlaskClient,
    clock: FixedClock,
    seeded: dict[str, Card],
    manager: dict[str, str],
) -> None:
    clock.set(NOW)
    login(client, "boss@example.com")
    html = client.get(f"/admin/?{RANGE}").text
    assert "<small>Gold, now</small>" in html  # the top tier's KPI
    assert [row[0] for row in cells(html, "tiers")] == ["no tier", "Bronze", "Silver", "Gold"]
    tiers = {row[2]: row[6] for row in cells(html, "top-customers")}
    assert tiers == {
        "c@example.com": "Gold",
        "a@example.com": "Gold",
        "d@example.com": "no tier",
        "b@example.com": "Silver",
    }
    assert not re.search(r">(bronze|silver|gold)<", html)
    exported = client.get(f"/admin/export.csv?table=top_customers&{RANGE}").text
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert {row["email"]: row["tier"] for row in rows} == tiers


def test_money_shows_in_the_programmes_currency_and_the_csv_has_a_decimal_amount(
    client: FlaskClient,
    clock: FixedClock,
    seeded: dict[str, Card],
    manager: dict[str, str],
) -> None:
    clock.set(NOW)
    login(client, "boss@example.com")
    html = client.get(f"/admin/?{RANGE}").text
    assert [row[4] for row in cells(html, "top-customers")] == [
        "60.00 USD",
        "50.00 USD",
        "15.00 USD",
        "10.00 USD",
    ]
    exported = client.get(f"/admin/export.csv?table=top_customers&{RANGE}").text
    header, first = list(csv.reader(io.StringIO(exported)))[:2]
    assert header[3:7] == ["orders", "spend_minor", "spend", "currency"]
    assert first[3:7] == ["2", "6000", "60.00", "USD"]


@pytest.mark.once
def test_amounts_use_the_currencys_own_decimals() -> None:
    assert money_text(123456, "USD") == "1,234.56 USD"
    assert money_text(123456, "JPY") == "123,456 JPY"
    assert money_text(123456, "KWD") == "123.456 KWD"


def test_a_bad_range_keeps_the_form_filled_and_says_what_is_wrong(
    client: FlaskClient, database: Database, clock: FixedClock, manager: dict[str, str]
) -> None:
    clock.set(NOW)
    login(client, "boss@example.com")
    page = client.get("/admin/?from=2026-03-09&to=2026-03-01")
    assert page.status_code == 400
    html = page.text
    assert '<p class="error" role="alert">from: must not be after to</p>' in html
    assert 'name="from" value="2026-03-09"' in html and 'name="to" value="2026-03-01"' in html
    assert ">7 days</a>" in html  # the quick ranges stay too
    typed = client.get("/admin/?from=%22%3E%3Cscript%3Ex&to=2026-03-01" + "9" * 5000)
    assert typed.status_code == 400 and "<script>" not in typed.text
    assert 'name="from" value="&#34;&gt;&lt;script&gt;"' in typed.text  # escaped, cut at 10
    assert 'name="to" value="2026-03-01"' in typed.text  # cut at a date's length


def test_sign_in_offers_the_programmes_in_a_list_on_the_till_and_the_dashboard(
    client: FlaskClient, make_program: MakeProgram, program: Program
) -> None:
    make_program(slug="north", name="North <Shop>")
    for area in ("admin", "cashier"):
        html = client.get(f"/{area}/?program=north").text
        select = html.split('<select name="program" required>')[1].split("</select>")[0]
        assert select == (
            '<option value="">Choose…</option>'
            '<option value="demo">Demo Coffee (demo)</option>'
            '<option value="north" selected>North &lt;Shop&gt; (north)</option>'
        ), area
        assert '<input name="program"' not in html


def test_sign_in_asks_for_the_slug_when_the_list_would_be_too_long(
    client: FlaskClient, database: Database, program: Program
) -> None:
    with database.transaction() as session:
        for n in range(SIGN_IN_CHOICES):
            session.add(
                Program(
                    slug=f"shop-{n}",
                    name=f"Shop {n}",
                    currency="USD",
                    config=program.config,
                    config_hash=program.config_hash,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    html = client.get("/admin/?program=shop-7").text
    assert '<select name="program"' not in html
    assert '<input name="program" value="shop-7" required' in html


def test_a_session_that_ended_gets_the_sign_in_list_without_waiting_for_its_own_lookup(
    client: FlaskClient, database: Database, manager: dict[str, str]
) -> None:
    # The dashboard looked the session up (a query: SQLite's BEGIN IMMEDIATE holds the write
    # lock) before it finds the account disabled and shows the sign-in form, whose programme
    # list is read in a transaction of its own: it must not wait for the first.
    login(client, "boss@example.com")
    with database.transaction() as session:
        session.execute(update(Staff).values(disabled=True))
    for area in ("admin", "cashier"):
        started = time.monotonic()
        page = client.get(f"/{area}/")
        assert page.status_code == 200 and '<select name="program" required>' in page.text
        assert time.monotonic() - started < 5, area
