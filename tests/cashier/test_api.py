from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.kit.web import json_of
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, LedgerEntry
from walletcards.loyalty.verify import verify


def write(
    client: FlaskClient,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    key: str | None = None,
) -> Any:
    return client.post(
        f"/api/v1/cashier/{path}",
        json=body,
        headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())},
    )


def test_scan_a_genuine_code_shows_the_customer(
    client: FlaskClient, cashier: dict[str, str], card_code: str
) -> None:
    response = client.post("/api/v1/cashier/scan", json={"code": card_code}, headers=cashier)
    assert response.status_code == 200, response.json
    answer = json_of(response)
    assert answer["customer"] == {"name": "Ann Lee", "member_number": card_code.split("-")[0]}
    assert answer["tier"] == "Bronze" and answer["balance"] == {"available": 550, "pending": 0}


def test_forged_and_altered_codes_are_refused(
    client: FlaskClient, cashier: dict[str, str], card_code: str
) -> None:
    number, tag = card_code.split("-")
    forged = client.post(
        "/api/v1/cashier/scan", json={"code": f"{number}-AAAAAAAAAAAAA"}, headers=cashier
    )
    other = str(int(number) + 1)
    altered = client.post("/api/v1/cashier/scan", json={"code": f"{other}-{tag}"}, headers=cashier)
    for response in (forged, altered):
        assert response.status_code == 422
        assert json_of(response)["error"]["code"] == "forged_code"


def test_member_number_phone_and_email_find_the_card(
    client: FlaskClient, cashier: dict[str, str], card_code: str, database: Database
) -> None:
    number = card_code.split("-")[0]
    from walletcards.loyalty.models import Customer

    with database.transaction() as session:
        session.execute(select(Customer)).scalar_one().phone = "+7 900 123-45-67"
    for code in (number, "cust-1@example.com", "+7 900 123-45-67"):
        response = client.post("/api/v1/cashier/scan", json={"code": code}, headers=cashier)
        assert response.status_code == 200, (code, response.json)
        assert json_of(response)["customer"]["member_number"] == number
    unknown = client.post(
        "/api/v1/cashier/scan", json={"code": "nobody@example.com"}, headers=cashier
    )
    assert unknown.status_code == 404


def test_a_phone_number_typed_with_dashes_is_a_phone_not_a_forged_code(
    client: FlaskClient, cashier: dict[str, str], card_code: str, database: Database
) -> None:
    from walletcards.loyalty.models import Customer

    with database.transaction() as session:
        session.execute(select(Customer)).scalar_one().phone = "900-123-4567"
    response = client.post("/api/v1/cashier/scan", json={"code": "900-123-4567"}, headers=cashier)
    assert response.status_code == 200, response.json
    assert json_of(response)["customer"]["member_number"] == card_code.split("-")[0]


def test_earn_records_a_purchase_by_the_programmes_rules(
    client: FlaskClient, cashier: dict[str, str], card_code: str
) -> None:
    response = write(
        client, "earn", {"code": card_code, "amount": "12.99", "reference": "R-1"}, cashier
    )
    assert response.status_code == 200, response.json
    assert response.json["earned"] == 90  # 2nd order: Silver, 7 points per dollar, rounded down
    assert response.json["balance"]["pending"] == 90
    assert response.json["recorded_by"] == "till1@example.com"
    bad = write(client, "earn", {"code": card_code, "amount": "-3"}, cashier)
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_amount"


def test_redeem_within_and_beyond_the_balance(
    client: FlaskClient, cashier: dict[str, str], card_code: str, database: Database
) -> None:
    ok = write(client, "redeem", {"code": card_code, "points": 200}, cashier)
    assert ok.status_code == 200 and ok.json["balance"]["available"] == 350
    too_much = write(client, "redeem", {"code": card_code, "points": 351}, cashier)
    assert too_much.status_code == 422
    assert too_much.json["error"]["code"] == "insufficient_points"
    with database.transaction() as session:
        assert session.execute(select(Card.available)).scalar_one() == 350
        actor = session.execute(
            select(LedgerEntry.actor).where(LedgerEntry.kind == "redeem")
        ).scalar_one()
        assert actor == "till1@example.com"
        assert verify(session) == []


def test_the_same_idempotency_key_twice_has_one_effect_and_one_answer(
    client: FlaskClient, cashier: dict[str, str], card_code: str, database: Database
) -> None:
    first = write(client, "redeem", {"code": card_code, "points": 100}, cashier, key="tap-1")
    again = write(client, "redeem", {"code": card_code, "points": 100}, cashier, key="tap-1")
    assert first.status_code == again.status_code == 200
    assert first.json == again.json
    other = write(client, "redeem", {"code": card_code, "points": 5}, cashier, key="tap-1")
    assert other.status_code == 409
    with database.transaction() as session:
        redeemed = session.execute(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "redeem")
        ).scalar_one()
    assert redeemed == 1


def test_a_cashier_above_the_redemption_limit_is_refused_a_manager_is_not(
    client: FlaskClient,
    cashier: dict[str, str],
    manager: dict[str, str],
    card_code: str,
    make_program: Any,
    apple_table: dict[str, str],
) -> None:
    make_program(
        apple=apple_table,
        cashier={"max_redeem_points": 100},
        webhooks={"orders_secret": "whsec_orders_secret_0123456789"},
    )
    refused = write(client, "redeem", {"code": card_code, "points": 101}, cashier)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "over_cashier_limit"
    allowed = write(client, "redeem", {"code": card_code, "points": 101}, manager)
    assert allowed.status_code == 200


def test_no_or_bad_auth_and_bad_input_are_refused(
    client: FlaskClient, card_code: str, cashier: dict[str, str]
) -> None:
    assert client.post("/api/v1/cashier/scan", json={"code": card_code}).status_code == 401
    bad_token = {"Authorization": "Bearer wct_not_a_token"}
    assert (
        client.post("/api/v1/cashier/scan", json={"code": card_code}, headers=bad_token).status_code
        == 401
    )
    no_key = client.post(
        "/api/v1/cashier/redeem", json={"code": card_code, "points": 1}, headers=cashier
    )
    assert (
        no_key.status_code == 400 and json_of(no_key)["error"]["code"] == "idempotency_key_required"
    )
    malformed = client.post(
        "/api/v1/cashier/scan", data=b"{nope", headers=cashier, content_type="application/json"
    )
    assert malformed.status_code == 400
    fractional = write(client, "redeem", {"code": card_code, "points": 1.5}, cashier)
    assert fractional.status_code == 422
    huge = client.post("/api/v1/cashier/scan", data=b"x" * (1024 * 1024 + 1), headers=cashier)
    assert huge.status_code == 413


def login(
    client: FlaskClient,
    password: str = "a long enough password",
    *,
    area: str = "cashier",
    email: str = "till1@example.com",
) -> Any:
    """Signs in through the page's form (the till's, or ``area="admin"`` the dashboard's)."""
    page = client.get(f"/{area}/?program=demo")
    csrf = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    return client.post(
        f"/{area}/login",
        data={"csrf_token": csrf, "program": "demo", "email": email, "password": password},
    )


def session_csrf(client: FlaskClient) -> str:
    html = client.get("/cashier/").get_data(as_text=True)
    return html.split('{csrf: "')[1].split('"')[0] if '{csrf: "' in html else ""


def test_page_session_needs_its_csrf_token_and_idles_out(
    client: FlaskClient, cashier: dict[str, str], card_code: str, clock: FixedClock
) -> None:
    assert login(client).status_code == 303
    csrf = session_csrf(client)
    assert csrf
    without = client.post("/api/v1/cashier/scan", json={"code": card_code})
    assert without.status_code == 403 and json_of(without)["error"]["code"] == "csrf"
    with_token = client.post(
        "/api/v1/cashier/scan", json={"code": card_code}, headers={"X-CSRF-Token": csrf}
    )
    assert with_token.status_code == 200
    set_cookie = client.get("/cashier/").headers.get("Set-Cookie", "")
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Secure" in set_cookie
    clock.advance(timedelta(minutes=31))
    idle = client.post(
        "/api/v1/cashier/scan", json={"code": card_code}, headers={"X-CSRF-Token": csrf}
    )
    assert idle.status_code == 401


def test_login_form_needs_csrf_and_attempts_are_rate_limited(
    client: FlaskClient, cashier: dict[str, str]
) -> None:
    forged = client.post("/cashier/login", data={"program": "demo", "email": "x", "password": "y"})
    assert forged.status_code == 400
    answers = [login(client, password="wrong password!").status_code for _ in range(6)]
    assert answers[:4] == [303, 303, 303, 303] and 429 in answers


def test_logout_ends_the_session(
    client: FlaskClient, cashier: dict[str, str], card_code: str
) -> None:
    login(client)
    csrf = session_csrf(client)
    client.post("/cashier/logout", data={"csrf_token": csrf})
    after = client.post(
        "/api/v1/cashier/scan", json={"code": card_code}, headers={"X-CSRF-Token": csrf}
    )
    assert after.status_code == 401


def test_a_google_rotating_code_is_accepted_only_while_fresh(
    client: FlaskClient,
    cashier: dict[str, str],
    card_code: str,
    database: Database,
    clock: FixedClock,
) -> None:
    from walletcards.codes import totp, totp_key

    with database.transaction() as session:
        card = session.execute(select(Card)).scalar_one()
    step = int(clock.now().timestamp()) // 30
    fresh = f"{card.member_number}-T{totp(totp_key(card.qr_secret), step)}"
    stale = f"{card.member_number}-T{totp(totp_key(card.qr_secret), step - 5)}"
    ok = client.post("/api/v1/cashier/scan", json={"code": fresh}, headers=cashier)
    assert ok.status_code == 200
    old = client.post("/api/v1/cashier/scan", json={"code": stale}, headers=cashier)
    assert old.status_code == 422 and json_of(old)["error"]["code"] == "forged_code"


def test_revoked_tokens_stop_working(
    client: FlaskClient, cashier: dict[str, str], card_code: str, database: Database
) -> None:
    from click.testing import CliRunner

    from walletcards.cli import main

    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    result = CliRunner().invoke(main, ["staff", "revoke", "till1@example.com"], env=env)
    assert result.exit_code == 0 and "revoked 1 token" in result.output
    assert (
        client.post("/api/v1/cashier/scan", json={"code": card_code}, headers=cashier).status_code
        == 401
    )
