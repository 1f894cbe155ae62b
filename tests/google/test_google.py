from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.fakes.google import DISCOVERY, FakeGoogle, LoopbackOnly
from tests.google.conftest import ISSUER
from tests.kit.passes import paid_order, token_of
from tests.kit.programs import MakeProgram
from tests.kit.webhooks import post_orders
from walletcards.cardface import card_face
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.google.objects import loyalty_class, loyalty_object
from walletcards.google.schema import load, validate
from walletcards.loyalty import ledger
from walletcards.loyalty.models import Card, Program
from walletcards.sync.worker import Worker

SCHEMAS = load(str(DISCOVERY))["schemas"]


def the_card(database: Database) -> Card:
    with database.transaction() as session:
        return session.execute(select(Card)).scalar_one()


def stored_object(fake: FakeGoogle) -> dict[str, Any]:
    (body,) = fake.store["loyaltyObject"].values()
    return body


def test_bodies_for_several_card_states_are_valid_against_the_discovery_document(
    client: FlaskClient, database: Database, clock: FixedClock, program: Program
) -> None:
    paid_order(client, clock, "A-1")
    states = []
    for step in ("new", "tier", "released", "expiring"):
        if step == "tier":
            paid_order(client, clock, "A-2")
        if step == "released":
            clock.advance(timedelta(days=15))
            with database.transaction() as session:
                ledger.settle_time(
                    session, ledger.lock_card(session, the_card(database).id), clock.now()
                )
        if step == "expiring":
            clock.advance(timedelta(days=20))
        with database.transaction() as session:
            card = the_card(database)
            face = card_face(session, program, card, clock.now(), "k" * 20)
            states.append(loyalty_object(ISSUER, program.slug, card.serial, face, "https://x/c/t"))
    assert [validate(SCHEMAS, "LoyaltyObject", body) for body in states] == [[], [], [], []]
    assert states[-1]["textModulesData"][-1]["id"] == "expiring"
    assert states[1]["textModulesData"][0]["body"] == "Silver"
    klass = loyalty_class(
        ISSUER, "demo", {"en": "Demo Coffee"}, "en", "https://x/logo.png", "#2c3e50"
    )
    assert validate(SCHEMAS, "LoyaltyClass", klass) == []
    broken = {**states[0], "loyaltyPoints": {"balance": {"int": 1, "string": "1"}}, "colour": 1}
    assert len(validate(SCHEMAS, "LoyaltyObject", broken)) == 2


def test_save_link_is_short_signed_and_names_the_inserted_object(
    client: FlaskClient,
    fake_google: FakeGoogle,
    service_account: dict[str, Any],
    clock: FixedClock,
    transport: LoopbackOnly,
) -> None:
    token = token_of(paid_order(client, clock, "A-1"))
    response = client.get(f"/c/{token}/google")
    assert response.status_code == 302
    link = response.headers["Location"]
    assert link.startswith("https://pay.google.com/gp/v/save/") and len(link) <= 1800
    claims = pyjwt.decode(
        link.rsplit("/", 1)[-1], fake_google.public_key_pem, algorithms=["RS256"], audience="google"
    )
    assert claims["iss"] == service_account["client_email"]
    assert claims["typ"] == "savetowallet" and claims["origins"] == ["https://cards.example.com"]
    (saved,) = claims["payload"]["loyaltyObjects"]
    assert set(saved) == {"id"} and saved["id"] in fake_google.store["loyaltyObject"]
    assert list(fake_google.store["loyaltyClass"]) == [f"{ISSUER}.demo"]
    assert all(url.startswith(fake_google.url) for url in transport.sent)  # nothing else


def test_webhook_worker_insert_then_refund_patches_the_balance(
    client: FlaskClient,
    fake_google: FakeGoogle,
    worker: Worker,
    clock: FixedClock,
    transport: LoopbackOnly,
) -> None:
    paid_order(client, clock, "A-1")
    worker.drain()
    first = stored_object(fake_google)
    assert first["secondaryLoyaltyPoints"]["balance"] == {"int": 550}
    assert [(m, k) for m, k, _ in fake_google.calls] == [
        ("POST", "loyaltyClass"),
        ("PATCH", "loyaltyObject"),
        ("POST", "loyaltyObject"),
    ]  # 404 -> insert
    refund = {
        "id": "evt-r",
        "type": "order.refunded",
        "order": {"id": "A-1", "currency": "USD"},
        "refund": {"id": "r1", "amount": "20.00"},
    }
    post_orders(client, refund, at=int(clock.now().timestamp()))
    worker.drain()
    assert stored_object(fake_google)["secondaryLoyaltyPoints"]["balance"] == {"int": 450}
    assert fake_google.calls[-1][:2] == ("PATCH", "loyaltyObject")
    assert fake_google.token_requests == 1  # one token, reused
    # Hermetic: everything went to the loopback fake; google-auth's background look-up of
    # iamcredentials.googleapis.com (if it ran) was refused by the transport, never sent.
    assert transport.sent and all(u.startswith(fake_google.url) for u in transport.sent)
    assert all("googleapis.com" in u for u in transport.refused)


def test_existing_class_409_is_patched(
    client: FlaskClient, fake_google: FakeGoogle, worker: Worker, clock: FixedClock
) -> None:
    fake_google.store["loyaltyClass"][f"{ISSUER}.demo"] = {"id": f"{ISSUER}.demo"}
    paid_order(client, clock, "A-1")
    worker.drain()
    calls = [(m, k) for m, k, _ in fake_google.calls if k == "loyaltyClass"]
    assert calls == [("POST", "loyaltyClass"), ("PATCH", "loyaltyClass")]
    assert fake_google.store["loyaltyClass"][f"{ISSUER}.demo"]["programName"] == "Demo Coffee"


def test_429_and_500_are_retried(
    client: FlaskClient,
    fake_google: FakeGoogle,
    worker: Worker,
    clock: FixedClock,
    database: Database,
) -> None:
    fake_google.script["PATCH loyaltyObject"] = [429, 500]
    paid_order(client, clock, "A-1")
    report = worker.drain()
    assert report.retry == 0
    assert len(fake_google.store["loyaltyObject"]) == 1
    card = the_card(database)
    assert card.pushed_version == card.version


def test_403_is_reported_as_a_missing_issuer_user_and_not_retried_in_a_loop(
    client: FlaskClient,
    fake_google: FakeGoogle,
    worker: Worker,
    clock: FixedClock,
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_google.script["POST loyaltyClass"] = [403, 403]
    token = token_of(paid_order(client, clock, "A-1"))
    with caplog.at_level("ERROR"):
        report = worker.drain()
    assert report.retry == 1
    assert "not a user of the issuer account" in caplog.text
    assert worker.drain().cards == 0  # parked, not hammering Google
    page = client.get(f"/c/{token}/google")
    assert page.status_code == 503 and page.json is not None
    assert page.json["error"]["code"] == "google_unavailable"


def test_five_tier_changes_in_a_day_notify_three_times(
    make_program: MakeProgram,
    client: FlaskClient,
    fake_google: FakeGoogle,
    worker: Worker,
    clock: FixedClock,
    program: Program,
) -> None:
    document_tiers = {
        "qualify_by": "paid_orders",
        "levels": [{"code": f"l{n}", "name": f"Level {n}", "threshold": n} for n in range(1, 7)],
    }
    make_program(
        tiers=document_tiers,
        google=program_google(program),
        webhooks={"orders_secret": "whsec_orders_secret_0123456789"},
    )
    for number in range(1, 7):
        paid_order(client, clock, f"T-{number}", "5.00")
        clock.advance(timedelta(hours=1))
        worker.drain()
    patches = [
        body
        for method, kind, body in fake_google.calls
        if method == "PATCH" and kind == "loyaltyObject"
    ]
    notifying = [b for b in patches if b and b.get("notifyPreference") == "NOTIFY_ON_UPDATE"]
    assert len(patches) == 6 and len(notifying) == 3


def program_google(program: Program) -> dict[str, str]:
    """The programme's [google] table as the file writes it."""
    table: dict[str, str] = program.config["google"]
    return table


def test_rotating_barcode_goes_through_rest_only(
    make_program: MakeProgram,
    client: FlaskClient,
    fake_google: FakeGoogle,
    clock: FixedClock,
    program: Program,
    database: Database,
) -> None:
    from walletcards.google.objects import totp_secret

    make_program(
        google={**program_google(program), "rotating_barcode": True},
        webhooks={"orders_secret": "whsec_orders_secret_0123456789"},
    )
    token = token_of(paid_order(client, clock, "A-1"))
    link = client.get(f"/c/{token}/google").headers["Location"]
    body = stored_object(fake_google)
    assert "barcode" not in body and validate(SCHEMAS, "LoyaltyObject", body) == []
    rotating = body["rotatingBarcode"]
    key = bytes.fromhex(rotating["totpDetails"]["parameters"][0]["key"])
    assert key.hex() not in link  # the TOTP key never travels in the save JWT
    card = the_card(database)
    assert key == totp_secret(card.qr_secret)
    assert rotating["valuePattern"] == f"{card.member_number}-T{{totp_value_0}}"


def test_the_object_says_what_the_points_are_worth(
    client: FlaskClient, database: Database, clock: FixedClock, program: Program
) -> None:
    paid_order(client, clock, "A-1")  # 250 + 300 welcome, held 14 days
    clock.advance(timedelta(days=15))
    with database.transaction() as session:
        card = ledger.lock_card(session, the_card(database).id)
        ledger.settle_time(session, card, clock.now())
        face = card_face(session, program, card, clock.now(), "k" * 20)
    body = loyalty_object(ISSUER, program.slug, card.serial, face, "https://x/c/t")
    modules = {module["id"]: module for module in body["textModulesData"]}
    value = modules["value"]
    assert (value["header"], value["body"]) == ("Worth", "550 points = $5.50")
    assert value["localizedHeader"]["translatedValues"] == [
        {"language": "ru", "value": "На сумму"},  # noqa: RUF001
        {"language": "zh-CN", "value": "价值"},
    ]
    assert validate(SCHEMAS, "LoyaltyObject", body) == []
