"""A walk-in joins at the till: POST /api/v1/cashier/enrol makes one customer and card, or
answers 409 with the card their email or phone already has; bad input changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.cashier.test_api import login, session_csrf
from tests.kit.programs import MakeProgram
from tests.kit.web import json_of
from tests.kit.webhooks import PUBLIC_URL, WRITTEN
from walletcards.db import Database
from walletcards.loyalty.member_models import Consent
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.outbound.models import OutboxEmail

ANN = {"name": "Ann Lee", "email": "Ann@Example.com", "marketing_consent": True}


def enrol(client: FlaskClient, body: Any, headers: dict[str, str], key: str | None = None) -> Any:
    return client.post(
        "/api/v1/cashier/enrol",
        json=body,
        headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())},
    )


def rows(database: Database) -> tuple[int, ...]:
    """Rows of every table an enrolment writes: customers, cards, consents, emails."""
    counted = [
        select(func.count()).select_from(model).scalar_subquery()
        for model in (*WRITTEN, Consent, OutboxEmail)
    ]
    with database.transaction() as session:
        return tuple(session.execute(select(*counted)).one())


def test_a_walk_in_joins_and_gets_a_card_to_add_to_their_wallet(
    client: FlaskClient, cashier: dict[str, str], database: Database
) -> None:
    response = enrol(client, {**ANN, "phone": "+44 7911 123456", "birthday": "1990-04-23"}, cashier)
    assert response.status_code == 201, response.json
    answer = json_of(response)
    number = answer["customer"]["member_number"]
    assert answer["customer"]["name"] == "Ann Lee" and answer["created"] is True
    assert answer["code"] == number and len(number) == 10
    assert answer["balance"] == {"available": 0, "pending": 0}
    assert answer["card"]["url"].startswith(f"{PUBLIC_URL}/c/")
    assert answer["card"]["apple"] == answer["card"]["url"] + "/card.pkpass"
    assert answer["card_qr_svg"].startswith("<?xml") and "<svg" in answer["card_qr_svg"]
    with database.transaction() as session:
        ann = session.execute(select(Customer)).scalar_one()
        card = session.execute(select(Card)).scalar_one()
        consents = session.execute(select(Consent)).scalars().all()
        email = session.execute(select(OutboxEmail)).scalar_one()
    assert (ann.email, ann.phone, str(ann.birthday)) == (
        "ann@example.com",
        "+447911123456",
        "1990-04-23",
    )
    assert (ann.joined_via, ann.joined_staff, ann.marketing_consent) == (
        "till",
        "till1@example.com",
        True,
    )
    assert [(c.kind, c.granted, c.source, c.actor) for c in consents] == [
        ("marketing", True, "till", "till1@example.com")
    ]
    assert card.member_number == number
    # the card email goes out as for a first order
    assert (email.card_id, email.recipient, email.status) == (
        card.id,
        "ann@example.com",
        "pending",
    )


def test_the_new_card_takes_its_first_purchase_straight_away(
    client: FlaskClient, cashier: dict[str, str]
) -> None:
    joined = json_of(enrol(client, ANN, cashier))
    earned = client.post(
        "/api/v1/cashier/earn",
        json={"code": joined["code"], "amount": "20.00"},
        headers={**cashier, "Idempotency-Key": "first-purchase"},
    )
    assert earned.status_code == 200, earned.json
    body = json_of(earned)
    assert body["customer"]["member_number"] == joined["customer"]["member_number"]
    assert body["earned"] > 0 and body["balance"]["pending"] >= body["earned"]


def test_no_consent_unless_ticked_and_a_phone_alone_is_enough(
    client: FlaskClient, cashier: dict[str, str], database: Database
) -> None:
    response = enrol(client, {"phone": "+7 900 123-45-67", "marketing_consent": False}, cashier)
    assert response.status_code == 201, response.json
    with database.transaction() as session:
        customer = session.execute(select(Customer)).scalar_one()
        email = session.execute(select(OutboxEmail)).scalar_one()
        assert session.scalar(select(func.count()).select_from(Consent)) == 0
    assert (customer.phone, customer.email, customer.marketing_consent) == (
        "+79001234567",
        None,
        False,
    )
    assert email.status == "skipped"  # no address to send the card to: the QR is the way


def test_a_phone_typed_without_plus_is_read_in_the_programmes_region(
    client: FlaskClient,
    cashier: dict[str, str],
    database: Database,
    make_program: MakeProgram,
    apple_table: dict[str, str],
) -> None:
    national = {"phone": "07911 123456"}
    refused = enrol(client, national, cashier)
    assert refused.status_code == 422 and json_of(refused)["error"]["code"] == "invalid_phone"
    make_program(apple=apple_table, join={"phone_region": "GB"})
    assert enrol(client, national, cashier).status_code == 201
    with database.transaction() as session:
        assert session.execute(select(Customer.phone)).scalar_one() == "+447911123456"


def test_an_existing_member_is_answered_409_with_their_card_and_left_unchanged(
    client: FlaskClient, cashier: dict[str, str], manager: dict[str, str], database: Database
) -> None:
    first = json_of(enrol(client, {"email": "ann@example.com", "phone": "+447911123456"}, cashier))
    before = rows(database)
    for again in (
        {**ANN, "name": "Mallory"},  # the same email, another case
        {"phone": "+44 7911 123456", "marketing_consent": True},  # the same phone
        {"email": "other@example.com", "phone": "+447911123456"},
    ):
        response = enrol(client, again, manager)
        assert response.status_code == 409, response.json
        body = json_of(response)
        assert body["error"]["code"] == "already_member"
        card = body["card"]
        assert card["customer"]["member_number"] == first["customer"]["member_number"]
        assert card["code"] == first["code"] and "balance" in card
        # whoever types someone's email learns no link to their card and no QR code
        assert "url" not in card and "card_qr_svg" not in body
    assert rows(database) == before
    with database.transaction() as session:
        ann = session.execute(select(Customer)).scalar_one()
    assert (ann.name, ann.email, ann.marketing_consent) == (None, "ann@example.com", False)


def test_a_replay_gets_the_first_answer_and_another_body_under_its_key_is_a_conflict(
    client: FlaskClient, cashier: dict[str, str], database: Database
) -> None:
    first = enrol(client, ANN, cashier, key="join-1")
    again = enrol(client, ANN, cashier, key="join-1")
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    other = enrol(client, {**ANN, "name": "Ann L."}, cashier, key="join-1")
    assert other.status_code == 409 and json_of(other)["error"]["code"] == "idempotency_conflict"
    second_key = enrol(client, ANN, cashier, key="join-2")
    assert second_key.status_code == 409
    assert json_of(second_key)["error"]["code"] == "already_member"
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "contact_required"),
        ({"name": "Ann", "email": " ", "phone": ""}, "contact_required"),
        ({"email": "ann"}, "invalid_email"),
        ({"email": "a" * 400 + "@example.com"}, "invalid_email"),
        ({"email": ["ann@example.com"]}, "invalid_email"),
        ({"phone": "+44 12"}, "invalid_phone"),
        ({"phone": "+1" + "5" * 60}, "invalid_phone"),
        ({"phone": 447911123456}, "invalid_phone"),
        ({**ANN, "name": "x" * 201}, "invalid_name"),
        ({**ANN, "name": "Ann\u200b\u2028Lee"}, "invalid_name"),
        ({**ANN, "name": 2**64}, "invalid_name"),
        ({**ANN, "name": "Ann\x00"}, "invalid_text"),
        ({**ANN, "language": "de"}, "invalid_language"),
        ({**ANN, "language": "x" * 1000}, "invalid_language"),
        ({**ANN, "birthday": "2027-01-01"}, "invalid_birthday"),
        ({**ANN, "birthday": "1899-12-31"}, "invalid_birthday"),
        ({**ANN, "birthday": "2001-02-30"}, "invalid_birthday"),
        ({**ANN, "birthday": "23/04/1990"}, "invalid_birthday"),
        ({**ANN, "birthday": 19900423}, "invalid_birthday"),
        ({**ANN, "marketing_consent": "yes"}, "invalid_marketing_consent"),
        ({**ANN, "marketing_consent": 1}, "invalid_marketing_consent"),
    ],
)
def test_bad_fields_are_refused_naming_the_field_and_nothing_is_written(
    client: FlaskClient, cashier: dict[str, str], database: Database, body: Any, code: str
) -> None:
    before = rows(database)
    response = enrol(client, body, cashier)
    assert response.status_code == 422, response.json
    assert json_of(response)["error"]["code"] == code
    assert rows(database) == before


def test_malformed_and_oversized_bodies_are_refused(
    client: FlaskClient, cashier: dict[str, str], database: Database
) -> None:
    before = rows(database)
    headers = {**cashier, "Idempotency-Key": "k", "Content-Type": "application/json"}
    for raw in (b"{nope", b"[]", b'"ann@example.com"', b"[" * 100_000, b'{"name": 1e999}'):
        response = client.post("/api/v1/cashier/enrol", data=raw, headers=headers)
        assert response.status_code in (400, 422), (raw[:20], response.json)
        assert "error" in json_of(response)
    huge = client.post("/api/v1/cashier/enrol", data=b"x" * (1024 * 1024 + 1), headers=headers)
    assert huge.status_code == 413
    assert rows(database) == before


def test_unauthorised_callers_are_refused(
    client: FlaskClient,
    cashier: dict[str, str],
    integration: dict[str, str],
    database: Database,
) -> None:
    before = rows(database)
    assert enrol(client, ANN, {}).status_code == 401
    assert enrol(client, ANN, {"Authorization": "Bearer wct_not_a_token"}).status_code == 401
    wrong_role = enrol(client, ANN, integration)
    assert wrong_role.status_code == 403 and json_of(wrong_role)["error"]["code"] == "forbidden"
    no_key = client.post("/api/v1/cashier/enrol", json=ANN, headers=cashier)
    assert json_of(no_key)["error"]["code"] == "idempotency_key_required"
    # the till page's session needs its CSRF token on every call
    assert login(client).status_code == 303
    assert enrol(client, ANN, {}).status_code == 403
    assert rows(database) == before
    csrf = session_csrf(client)
    assert enrol(client, ANN, {"X-CSRF-Token": csrf}).status_code == 201


def test_another_programmes_member_is_not_this_programmes(
    client: FlaskClient,
    cashier: dict[str, str],
    database: Database,
    make_program: MakeProgram,
    program: Program,
) -> None:
    other = make_program(slug="other", name="Other Shop")
    with database.transaction() as session:
        session.add(
            Customer(
                program_id=other.id,
                email="ann@example.com",
                created_at=program.created_at,
                marketing_consent=False,
            )
        )
    assert enrol(client, ANN, cashier).status_code == 201
