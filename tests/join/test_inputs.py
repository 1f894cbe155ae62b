"""What the sign-up page refuses, and what it answers a robot: nothing written either way."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.join.pages import JOIN, fields, form_of, rows, sign_up
from tests.kit.programs import MakeProgram
from tests.kit.web import SECRET_KEY
from walletcards.db import Database
from walletcards.join.form import form_token
from walletcards.loyalty.models import Customer

NOTHING = (0, 0, 0, 0)


def test_a_filled_honeypot_answers_like_success_and_creates_nothing(
    client: FlaskClient, database: Database, make_program: MakeProgram
) -> None:
    real = sign_up(client, email="real@example.com", address="10.0.0.1")
    robot = sign_up(client, website="https://spam.example", email="bot@example.com")
    assert (robot.status_code, robot.get_data()) == (real.status_code, real.get_data())
    assert rows(database)[:2] == (1, 1)
    make_program(join={**JOIN, "confirm_email": False})
    robot = sign_up(client, website="x", email="bot2@example.com", address="10.0.0.2")
    assert robot.status_code == 200 and "sent your card" in robot.get_data(as_text=True)
    assert rows(database)[:2] == (1, 1)


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "not-a-token",
        "x" * 5000,
        form_token("another-secret-key-0123456789", "demo"),  # not signed by us
        form_token(SECRET_KEY, "other"),  # another programme's form
    ],
)
def test_a_missing_or_bad_form_token_is_400_with_the_form_and_creates_nothing(
    client: FlaskClient, database: Database, token: str | None
) -> None:
    data = fields() if token is None else {"form": token, **fields()}
    answer = client.post("/join/demo", data=data)
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "This form has expired" in html and 'name="form"' in html
    assert rows(database) == NOTHING


def test_an_expired_form_token_is_refused(
    client: FlaskClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    token = form_of(client.get("/join/demo"))
    later = time.time() + 7 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    answer = client.post("/join/demo", data={"form": token, **fields()})
    assert answer.status_code == 400 and rows(database) == NOTHING


def test_sign_ups_are_rate_limited_per_client_address(
    client: FlaskClient, database: Database
) -> None:
    token = form_of(client.get("/join/demo"))
    statuses = [
        client.post("/join/demo", data={"form": token, **fields(name="")}).status_code
        for _ in range(11)
    ]
    assert statuses == [400] * 10 + [429]
    limited = client.post("/join/demo", data={"form": token, **fields()})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "Too many attempts" in limited.get_data(as_text=True)
    other = client.post(
        "/join/demo", data={"form": token, **fields()}, environ_base={"REMOTE_ADDR": "10.2.3.4"}
    )
    assert other.status_code == 200 and rows(database)[:2] == (1, 1)


BAD_FIELDS: list[dict[str, Any]] = [
    {"name": ""},
    {"name": "A" * 201},
    {"name": "Ann\x00Lee"},
    {"name": "Ann\nLee"},
    {"email": ""},
    {"email": "ann"},
    {"email": "a" * 310 + "@example.com"},
    {"email": "ann\x00@example.com"},
    {"email": "x" * 5000},
    {"phone": "call me"},
    {"phone": "+44 12"},
    {"phone": "+44\x007911123456"},
    {"phone": "+1" + "5" * 60},
    {"birthday": "31/05/1990"},
    {"birthday": "1990-02-30"},
    {"birthday": "1850-01-01"},
    {"birthday": "2999-01-01"},
    {"birthday": "1990-05-31\x00"},
    {"birthday": "9" * 10**4},
    {"language": "fr"},
    {"language": "e\x00n"},
    {"terms": None},
    {"terms": "no"},
]


@pytest.mark.parametrize("bad", BAD_FIELDS)
def test_malformed_or_oversized_fields_are_400_with_the_form_again_and_nothing_created(
    client: FlaskClient, database: Database, bad: dict[str, Any]
) -> None:
    answer = sign_up(client, **bad)
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert 'name="form"' in html and 'class="error"' in html and "aria-invalid" in html
    assert "\x00" not in html
    assert rows(database) == NOTHING


def test_the_programmes_required_contacts_are_required(
    client: FlaskClient, database: Database, make_program: MakeProgram
) -> None:
    make_program(join={**JOIN, "required": ["email", "phone"]})
    assert sign_up(client).status_code == 400  # no phone
    make_program(join={**JOIN, "required": ["phone"], "confirm_email": False})
    assert sign_up(client, email="").status_code == 400  # no phone
    answer = sign_up(client, email="", phone="+447911123456", address="10.0.0.9")
    assert answer.status_code == 303
    with database.transaction() as session:
        member = session.execute(select(Customer)).scalar_one()
        assert (member.email, member.phone) == (None, "+447911123456")


def test_a_phone_region_reads_national_numbers(
    client: FlaskClient, database: Database, make_program: MakeProgram
) -> None:
    make_program(join={**JOIN, "phone_region": "GB"})
    assert sign_up(client, phone="07911 123456").status_code == 200
    with database.transaction() as session:
        assert session.execute(select(Customer.phone)).scalar_one() == "+447911123456"


@pytest.mark.parametrize(
    "path",
    ["/join/nope", "/join/a%00b", f"/join/{'a' * 64}", "/join/DEMO", "/join/nope/poster"],
)
def test_unknown_or_malformed_programmes_are_404(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404
    assert client.post(path.removesuffix("/poster"), data=fields()).status_code == 404


@pytest.mark.parametrize("join", [None, {**JOIN, "enabled": False}])
def test_without_an_enabled_join_table_there_is_no_sign_up_page(
    client: FlaskClient, make_program: MakeProgram, join: dict[str, Any] | None
) -> None:
    make_program(join=join)
    for path in ("/join/demo", "/join/demo/poster", "/join/demo/qr.svg"):
        assert client.get(path).status_code == 404
    assert client.post("/join/demo", data=fields()).status_code == 404


def test_a_staff_code_from_the_poster_is_recorded_on_the_new_member(
    client: FlaskClient, database: Database
) -> None:
    page = client.get("/join/demo?staff=till-2")
    assert 'name="staff" value="till-2"' in page.get_data(as_text=True)
    sign_up(client, query="?staff=till-2", staff="till-2")
    with database.transaction() as session:
        assert session.execute(select(Customer.joined_staff)).scalar_one() == "till-2"


@pytest.mark.parametrize("code", ["Till-2", "a" * 64, "till 2", "till\x002", "<b>", ""])
def test_a_malformed_staff_code_is_ignored(
    client: FlaskClient, database: Database, code: str
) -> None:
    page = client.get("/join/demo", query_string={"staff": code})
    assert page.status_code == 200 and 'name="staff"' not in page.get_data(as_text=True)
    assert sign_up(client, staff=code).status_code == 200
    with database.transaction() as session:
        assert session.execute(select(Customer.joined_staff)).scalar_one() is None
