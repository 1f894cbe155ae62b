"""Erasure: no personal value left in any text column of any table, the ledger and the
dashboard as they were, the phone holding the voided pass (pushed, then fetched) and Google's
object INACTIVE; once only (the same answer again); admins only."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import JSON, String, select
from werkzeug.test import TestResponse

from tests.fakes.apns import FakeApns
from tests.fakes.memory import MemoryGoogle
from tests.kit.apple import PTID
from tests.kit.passes import pass_json, unpack
from tests.kit.web import json_of
from tests.kit.webhooks import post_orders
from tests.rights.conftest import DEVICE, PERSONAL, PUSH_TOKEN, Member, import_every_model, order
from walletcards.apple.models import AppleRegistration
from walletcards.cli import main
from walletcards.clients import Clients
from walletcards.clock import FixedClock
from walletcards.codes import card_code
from walletcards.db import Database, Model
from walletcards.loyalty.member_models import Consent
from walletcards.loyalty.models import Card, Customer
from walletcards.loyalty.verify import verify
from walletcards.outbound.models import OutboundEvent
from walletcards.sync.jobs import run_due
from walletcards.sync.worker import Worker

METRICS = "/api/v1/programs/demo/metrics?from=2026-02-01&to=2026-04-30"


def erasure(
    client: FlaskClient,
    member: str,
    headers: dict[str, str],
    key: str | None = None,
    body: Any = None,
) -> TestResponse:
    return client.post(
        f"/api/v1/programs/demo/customers/{member}/erasure",
        json={} if body is None else body,
        headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())},
    )


def personal_values_left(database: Database) -> list[tuple[str, str, str]]:
    """(table, column, value) wherever a text or JSON column still holds one of the erased
    values, in any spelling case."""
    import_every_model()
    found = []
    with database.transaction() as session:
        for table in Model.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | JSON)]
            if not columns:
                continue
            for values in session.execute(select(*columns)):
                for column, value in zip(columns, values, strict=True):
                    if value is None:
                        continue
                    text = (
                        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                    )
                    found += [
                        (table.name, column.name, needle)
                        for needle in PERSONAL
                        if needle.lower() in text.lower()
                    ]
    return found


def without_names(metrics: dict[str, Any]) -> dict[str, Any]:
    tops = [{**c, "name": None, "email": None} for c in metrics["top_customers"]]
    return {**metrics, "top_customers": tops}


def test_erasure_leaves_no_personal_value_and_the_ledger_and_dashboard_as_they_were(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    member: Member,
    manager: dict[str, str],
    admin: dict[str, str],
) -> None:
    assert {table for table, _, _ in personal_values_left(database)} >= {
        "customers",
        "inbox_deliveries",
        "outbound_events",
        "outbox_emails",
        "till_requests",
        "ledger_entries",
        "redemptions",
    }  # the member's history reaches every kind of place
    before = json_of(client.get(METRICS, headers=manager))
    response = erasure(client, member.member_number, admin)
    assert response.status_code == 200, response.get_data()[:300]
    assert json_of(response) == {
        "member_number": member.member_number,
        "status": "erased",
        "erased_at": clock.now().isoformat(),
        "erased_by": "owner@example.com",
    }
    assert personal_values_left(database) == []
    with database.transaction() as session:
        assert verify(session) == []
        customer = session.get(Customer, member.customer_id)
        assert customer is not None
        assert (customer.erased_at, customer.erased_by) == (clock.now(), "owner@example.com")
        assert customer.external_id is not None and customer.external_id.startswith("erased:")
        assert (customer.birthday, customer.locale, customer.marketing_consent) == (
            None,
            None,
            False,
        )
        markers = session.execute(
            select(Consent.kind, Consent.granted, Consent.actor).where(Consent.source == "erasure")
        ).all()
        assert sorted(markers) == [
            ("marketing", False, "owner@example.com"),
            ("terms", False, "owner@example.com"),
        ]
        (erased,) = session.execute(
            select(OutboundEvent).where(OutboundEvent.type == "customer.erased")
        ).scalars()
        assert erased.card_id == member.card_id and erased.status == "pending"
        assert erased.payload["erased_at"] == clock.now().isoformat()
        assert erased.payload["card"]["member_number"] == member.member_number
    after = json_of(client.get(METRICS, headers=manager))
    assert without_names(after) == without_names(before)
    assert client.get(f"/c/{member.public_token}").status_code == 404


def test_the_phone_gets_the_voided_pass_and_google_the_inactive_object(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    member: Member,
    admin: dict[str, str],
    apns: FakeApns,
    worker: Worker,
    clients: Clients,
) -> None:
    apple = {"Authorization": f"ApplePass {member.auth_token}"}
    listed = client.get(f"/passkit/v1/devices/{DEVICE}/registrations/{PTID}")
    tag = json_of(listed)["lastUpdated"]
    apns.requests.clear()
    clock.advance(timedelta(seconds=5))
    assert erasure(client, member.member_number, admin).status_code == 200
    assert worker.drain().pushed == 1
    assert [r.token for r in apns.requests] == [PUSH_TOKEN]  # the push, after the commit
    changed = client.get(
        f"/passkit/v1/devices/{DEVICE}/registrations/{PTID}?passesUpdatedSince={tag}"
    )
    assert json_of(changed)["serialNumbers"] == [member.serial]
    fetched = client.get(f"/passkit/v1/passes/{PTID}/{member.serial}", headers=apple)
    assert fetched.status_code == 200
    document = pass_json(unpack(fetched.data))
    assert document["voided"] is True
    assert all(
        field["value"] != "Zelda Quimby" for f in document["storeCard"].values() for field in f
    )
    google = clients.google
    assert isinstance(google, MemoryGoogle)
    (body,) = google.objects.values()
    assert body["state"] == "INACTIVE"
    # the registration stays while the phone may still be offline, then goes
    assert run_due(database, clock.now() + timedelta(days=6))["erased_devices_forgotten"] == 0
    assert run_due(database, clock.now() + timedelta(days=8))["erased_devices_forgotten"] == 1
    with database.transaction() as session:
        assert session.execute(select(AppleRegistration)).first() is None
    gone = client.get(f"/passkit/v1/devices/{DEVICE}/registrations/{PTID}")
    assert gone.status_code == 204


def cli(database: Database, *args: str, stdin: str | None = None) -> Any:
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    return CliRunner().invoke(main, ["customer", "erase", *args], env=env, input=stdin)


def test_erasing_again_answers_as_the_first_time(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    member: Member,
    admin: dict[str, str],
) -> None:
    first = erasure(client, member.member_number, admin, key="erase-1")
    version = card_version(database, member)
    clock.advance(timedelta(hours=1))
    for key in ("erase-1", "erase-2"):
        again = erasure(client, member.member_number, admin, key=key)
        assert (again.status_code, again.json) == (200, first.json)
    conflict = erasure(client, member.member_number, admin, key="erase-1", body={"x": 1})
    assert conflict.status_code == 409
    by_cli = cli(database, "--program", "demo", member.member_number)
    assert by_cli.exit_code == 0 and "already erased" in by_cli.output, by_cli.output
    assert "owner@example.com" in by_cli.output
    assert card_version(database, member) == version  # nothing changed, nothing pushed again
    with database.transaction() as session:
        markers = session.execute(select(Consent).where(Consent.source == "erasure")).all()
        assert len(markers) == 2
        told = select(OutboundEvent).where(OutboundEvent.type == "customer.erased")
        assert len(session.execute(told).all()) == 1  # the CRM is told once


def card_version(database: Database, member: Member) -> int:
    with database.transaction() as session:
        card = session.get(Card, member.card_id)
        assert card is not None
        return card.version


def test_the_command_line_asks_first_and_records_who(database: Database, member: Member) -> None:
    refused = cli(database, "--program", "demo", member.member_number, stdin="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    assert personal_values_left(database) != []
    done = cli(
        database,
        "--program",
        "demo",
        "--by",
        "dpo ticket 42",
        "zelda.quimby@example.org",
        stdin="y\n",
    )
    assert done.exit_code == 0 and f"member {member.member_number}: erased" in done.output
    assert personal_values_left(database) == []
    with database.transaction() as session:
        customer = session.get(Customer, member.customer_id)
        assert customer is not None and customer.erased_by == "dpo ticket 42"
    # erased: the email finds nobody any more, the member number still does
    assert cli(database, "--program", "demo", "zelda.quimby@example.org").exit_code == 1
    assert cli(database, "--program", "demo", "--yes", member.member_number).exit_code == 0


def test_a_later_order_from_the_same_person_starts_a_new_member(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    member: Member,
    admin: dict[str, str],
) -> None:
    assert erasure(client, member.member_number, admin).status_code == 200
    at = int(clock.now().timestamp())
    assert post_orders(client, order("R-9", clock), at=at).status_code == 200
    with database.transaction() as session:
        cards = session.execute(select(Card.id, Card.customer_id).order_by(Card.id)).all()
        assert len(cards) == 2 and cards[1].customer_id != member.customer_id
        assert verify(session) == []


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ({}, 401, "unauthorized"),
        ("cashier", 403, "forbidden"),
        ("manager", 403, "forbidden"),
        ("integration", 403, "forbidden"),
    ],
)
def test_only_an_admin_may_erase(
    request: pytest.FixtureRequest,
    client: FlaskClient,
    database: Database,
    member: Member,
    who: Any,
    status: int,
    code: str,
) -> None:
    headers = request.getfixturevalue(who) if isinstance(who, str) else who
    response = erasure(client, member.member_number, headers)
    assert (response.status_code, json_of(response)["error"]["code"]) == (status, code)
    assert personal_values_left(database) != []


def test_bad_erasure_requests_change_nothing(
    client: FlaskClient, database: Database, member: Member, admin: dict[str, str]
) -> None:
    url = f"/api/v1/programs/demo/customers/{member.member_number}/erasure"
    key = {"Idempotency-Key": "k-1"}
    for response, status in (
        (client.post(url, json={}, headers=admin), 400),  # no Idempotency-Key
        (client.post(url, data=b"{not json", headers={**admin, **key}), 400),
        (client.post(url, json=[], headers={**admin, **key}), 400),
        (client.post(url, json={"reason": "x"}, headers={**admin, **key}), 422),
        (client.post(url, json={"a": "\u0000"}, headers={**admin, **key}), 422),
        (
            client.post(url, data=b"{" + b" " * (2 * 1024 * 1024) + b"}", headers={**admin, **key}),
            413,
        ),
        (erasure(client, "0000000000", admin), 404),
        (erasure(client, "9" * 3000, admin), 404),
        (
            client.post(
                "/api/v1/programs/other/customers/1/erasure", json={}, headers={**admin, **key}
            ),
            404,
        ),
    ):
        assert response.status_code == status, (status, response.get_data()[:200])
        assert "error" in json_of(response)
    assert personal_values_left(database) != []


def test_the_till_no_longer_knows_an_erased_card(
    client: FlaskClient, member: Member, admin: dict[str, str], cashier: dict[str, str]
) -> None:
    code = card_code("test-secret-key-0123456789", "demo", member.member_number)
    assert (
        client.post("/api/v1/cashier/scan", json={"code": code}, headers=cashier).status_code == 200
    )
    assert erasure(client, member.member_number, admin).status_code == 200
    for typed in (code, member.member_number):
        scanned = client.post("/api/v1/cashier/scan", json={"code": typed}, headers=cashier)
        assert scanned.status_code == 404 and json_of(scanned)["error"]["code"] == "unknown_card"
