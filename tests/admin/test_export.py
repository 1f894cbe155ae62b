"""The dashboard's CSV export: text a spreadsheet would run as a formula is defused wherever a
spreadsheet could see a cell start; numbers stay numbers."""

from __future__ import annotations

import csv
import io

import pytest
from flask.testing import FlaskClient

from tests.admin.seed import NOW, RANGE, order
from tests.admin.test_metrics import login
from tests.kit.programs import MakeCard
from walletcards.admin.dashboard import csv_text, defused
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Program


@pytest.mark.once
@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =HYPERLINK(1)", "'  =HYPERLINK(1)"),
        ("\n@x", "'\n@x"),
        ("Ann;=HYPERLINK(1)", "Ann;'=HYPERLINK(1)"),
        ("Ann, =1+2", "Ann,' =1+2"),
        ("a;b;-2", "a;b;'-2"),
        ("Ann Lee-Smith", "Ann Lee-Smith"),
        ("ann+tag@example.com", "ann+tag@example.com"),
        ("2026-03-09", "2026-03-09"),
        ("  Ann", "  Ann"),
        ("", ""),
    ],
)
def test_text_that_could_start_a_formula_gets_an_apostrophe(text: str, safe: str) -> None:
    assert defused(text) == safe


@pytest.mark.once
def test_numbers_stay_numbers_even_negative_and_text_that_looks_like_one_is_text() -> None:
    out = csv_text(
        ["name", "spend_minor", "available"],
        [{"name": "-250", "spend_minor": -250, "available": 0}, {"name": None, "spend_minor": 7,
                                                                  "available": 3}],
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1] == ["'-250", "-250", "0"]
    assert rows[2] == ["", "7", "3"]
    assert defused(True) == "True"


def test_the_top_customers_export_defuses_names_after_blanks_and_separators(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    make_card: MakeCard,
    program: Program,
    manager: dict[str, str],
) -> None:
    clock.set(NOW)
    names = [" =HYPERLINK(1)", "Lee;=cmd|' /C calc'!A0", "\t@SUM(1)"]
    for index, name in enumerate(names):
        card = make_card(program, email=f"c{index}@example.com", name=name)
        with database.transaction() as session:
            session.add(order(card, 100 + index, "2026-03-09T12:00:00"))
    login(client, "boss@example.com")
    text = client.get(f"/admin/export.csv?table=top_customers&{RANGE}").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(row["name"] for row in rows) == sorted(
        ["' =HYPERLINK(1)", "Lee;'=cmd|' /C calc'!A0", "'\t@SUM(1)"]
    )
    assert sorted(int(row["spend_minor"]) for row in rows) == [100, 101, 102]
