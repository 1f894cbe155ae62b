"""Redemption needs the card: its signed QR exactly as issued, or a fresh rotating code once.

A typed member number, email or phone (printed on the card, or known to anyone) may look a
customer up and earn, but only a manager may redeem by it, unless the programme allows it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.cashier.test_api import write
from tests.kit.programs import demo_document
from tests.kit.web import json_of
from walletcards.clock import FixedClock
from walletcards.codes import totp, totp_key
from walletcards.db import Database
from walletcards.loyalty.config import ProgramConfigError, parse_program
from walletcards.loyalty.models import Card, Customer, LedgerEntry


def redeemed(database: Database) -> int:
    with database.transaction() as session:
        return session.execute(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "redeem")
        ).scalar_one()


def rotating(database: Database, clock: FixedClock, steps: int = 0) -> str:
    """The card's Google rotating code, ``steps`` 30-second periods from now."""
    with database.transaction() as session:
        card = session.execute(select(Card)).scalar_one()
    step = int(clock.now().timestamp()) // 30 + steps
    return f"{card.member_number}-T{totp(totp_key(card.qr_secret), step)}"


@pytest.fixture
def lookups(card_code: str, database: Database) -> list[str]:
    """The typed ways to find the card: member number, email, phone."""
    with database.transaction() as session:
        session.execute(select(Customer)).scalar_one().phone = "+7 900 123-45-67"
    return [card_code.split("-")[0], "cust-1@example.com", "+7 900 123-45-67"]


def test_a_cashier_cannot_redeem_by_a_typed_number_email_or_phone(
    client: FlaskClient, cashier: dict[str, str], lookups: list[str], database: Database
) -> None:
    for code in lookups:
        response = write(client, "redeem", {"code": code, "points": 10}, cashier)
        assert response.status_code == 403, (code, response.json)
        assert response.json["error"]["code"] == "card_required"
        assert "scan" in response.json["error"]["message"]
    assert redeemed(database) == 0


def test_a_cashier_still_earns_by_a_typed_number(
    client: FlaskClient, cashier: dict[str, str], lookups: list[str]
) -> None:
    for index, code in enumerate(lookups):
        body = {"code": code, "amount": "1.00", "reference": f"L-{index}"}
        response = write(client, "earn", body, cashier)
        assert response.status_code == 200, (code, response.json)


def test_a_manager_may_redeem_by_a_typed_number(
    client: FlaskClient, manager: dict[str, str], lookups: list[str], database: Database
) -> None:
    for code in lookups:
        response = write(client, "redeem", {"code": code, "points": 10}, manager)
        assert response.status_code == 200, (code, response.json)
    assert redeemed(database) == 3


def test_a_programme_may_let_cashiers_redeem_by_a_typed_number(
    client: FlaskClient,
    cashier: dict[str, str],
    lookups: list[str],
    make_program: Any,
    apple_table: dict[str, str],
) -> None:
    make_program(
        apple=apple_table,
        redemption={"point_value": "0.01", "allow_lookup": True},
        webhooks={"orders_secret": "whsec_orders_secret_0123456789"},
    )
    response = write(client, "redeem", {"code": lookups[0], "points": 10}, cashier)
    assert response.status_code == 200, response.json


def test_allow_lookup_is_off_by_default_and_must_be_a_boolean() -> None:
    assert parse_program(demo_document()).rules.redeem_by_lookup is False
    allowed = parse_program(demo_document(redemption={"allow_lookup": True}))
    assert allowed.rules.redeem_by_lookup is True
    with pytest.raises(ProgramConfigError, match=r"redemption\.allow_lookup"):
        parse_program(demo_document(redemption={"allow_lookup": "yes"}))


def test_a_lower_cased_tag_is_not_the_card(
    client: FlaskClient, cashier: dict[str, str], card_code: str, database: Database
) -> None:
    number, tag = card_code.split("-")
    letter = next(i for i, c in enumerate(tag) if c.isalpha())  # one letter in lower case
    one_lower = f"{tag[:letter]}{tag[letter].lower()}{tag[letter + 1 :]}"
    for variant in (f"{number}-{tag.lower()}", f"{number}-{one_lower}"):
        scan = client.post("/api/v1/cashier/scan", json={"code": variant}, headers=cashier)
        assert scan.status_code == 422 and json_of(scan)["error"]["code"] == "forged_code"
        spend = write(client, "redeem", {"code": variant, "points": 10}, cashier)
        assert spend.status_code == 422 and spend.json["error"]["code"] == "forged_code"
    assert redeemed(database) == 0


def test_a_rotating_code_redeems_once(
    client: FlaskClient,
    cashier: dict[str, str],
    card_code: str,
    database: Database,
    clock: FixedClock,
) -> None:
    code = rotating(database, clock)
    first = write(client, "redeem", {"code": code, "points": 10}, cashier)
    assert first.status_code == 200, first.json
    for _ in range(2):  # the same code again, as a new redemption (another Idempotency-Key)
        again = write(client, "redeem", {"code": code, "points": 10}, cashier)
        assert again.status_code == 409 and again.json["error"]["code"] == "code_used"
    # a code from 30 s earlier is still inside the clock-drift window, yet older than the used one
    older = write(client, "redeem", {"code": rotating(database, clock, -1), "points": 10}, cashier)
    assert older.status_code == 409 and older.json["error"]["code"] == "code_used"
    assert redeemed(database) == 1
    clock.advance(timedelta(seconds=30))
    fresh = write(client, "redeem", {"code": rotating(database, clock), "points": 10}, cashier)
    assert fresh.status_code == 200, fresh.json
    assert redeemed(database) == 2


def test_a_retried_rotating_redemption_gets_its_first_answer(
    client: FlaskClient,
    cashier: dict[str, str],
    card_code: str,
    database: Database,
    clock: FixedClock,
) -> None:
    body = {"code": rotating(database, clock), "points": 10}
    first = write(client, "redeem", body, cashier, key="tap-7")
    retry = write(client, "redeem", body, cashier, key="tap-7")
    assert first.status_code == retry.status_code == 200
    assert first.json == retry.json and redeemed(database) == 1


def test_a_rotating_code_still_scans_and_earns_after_it_redeemed(
    client: FlaskClient,
    cashier: dict[str, str],
    card_code: str,
    database: Database,
    clock: FixedClock,
) -> None:
    """The till scans, redeems, then records the purchase with the code it has on screen."""
    code = rotating(database, clock)
    assert write(client, "redeem", {"code": code, "points": 10}, cashier).status_code == 200
    scan = client.post("/api/v1/cashier/scan", json={"code": code}, headers=cashier)
    assert scan.status_code == 200
    earn = write(client, "earn", {"code": code, "amount": "2.00"}, cashier)
    assert earn.status_code == 200, earn.json
