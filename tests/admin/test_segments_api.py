"""The owner's segments API: sizes and history for managers, members as a defused CSV."""

from __future__ import annotations

import csv
import io

import pytest
from flask.testing import FlaskClient

from tests.kit.programs import MakeCard, MakeProgram
from tests.kit.web import json_of
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Program
from walletcards.sync.jobs import run_due

BASE = "/api/v1/programs/demo/segments"


@pytest.fixture
def program(make_program: MakeProgram) -> Program:
    return make_program(segments=[{"code": "everyone-new", "joined_within_days": 30}])


def test_a_manager_sees_every_segment_with_its_size_and_history(
    client: FlaskClient,
    manager: dict[str, str],
    program: Program,
    make_card: MakeCard,
    database: Database,
    clock: FixedClock,
) -> None:
    make_card(program, email="ann@example.com")
    run_due(database, clock.now())
    answer = json_of(client.get(BASE + "?days=7", headers=manager))
    by_code = {s["code"]: s for s in answer["segments"]}
    assert by_code["all"]["size"] == 1 and by_code["everyone-new"]["kind"] == "rule"
    assert by_code["everyone-new"]["size"] == 1 and by_code["champions"]["kind"] == "rfm"
    assert by_code["all"]["history"] == [{"day": "2026-03-01", "size": 1}]
    assert len(by_code) == 12


def test_members_csv_defuses_formulas(
    client: FlaskClient, manager: dict[str, str], program: Program, make_card: MakeCard
) -> None:
    card = make_card(program, email="ann@example.com", name='=HYPERLINK("http://x")')
    response = client.get(BASE + "/everyone-new/members.csv", headers=manager)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["member_number", "name", "email"]
    assert rows[1][0] == card.member_number and rows[1][1].startswith("'=")


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        (BASE + "?days=0", 400, "invalid_days"),
        (BASE + "?days=1e999", 400, "invalid_days"),
        (BASE + "/nobody/members.csv", 404, "unknown_segment"),
        (BASE + "/BAD%00/members.csv", 422, "invalid_text"),
        ("/api/v1/programs/other/segments", 404, "unknown_program"),
    ],
)
def test_bad_requests_are_clear_errors(
    client: FlaskClient, manager: dict[str, str], url: str, status: int, code: str
) -> None:
    response = client.get(url, headers=manager)
    assert response.status_code == status and json_of(response)["error"]["code"] == code


def test_only_managers_may_read_segments(
    client: FlaskClient, cashier: dict[str, str], program: Program
) -> None:
    for url in (BASE, BASE + "/all/members.csv"):
        assert client.get(url).status_code == 401
        response = client.get(url, headers=cashier)
        assert response.status_code == 403 and json_of(response)["error"]["code"] == "forbidden"
