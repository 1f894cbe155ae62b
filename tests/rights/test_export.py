"""`walletcards customer export` and GET …/customers/<member>/export: every table that refers
to a customer or a card is in the document (a new one fails here until the export covers it or
lists it as deliberately left out), with every row of theirs, and no card secret."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import Table, func, select

from tests.kit.web import json_of
from tests.rights.conftest import (
    EMAIL,
    EXTERNAL_ID,
    NAME,
    PHONE,
    PUSH_TOKEN,
    Member,
    import_every_model,
)
from walletcards.cli import main
from walletcards.db import Database, Model
from walletcards.loyalty.models import Order, Refund
from walletcards.rights.export import EXCLUDED, TABLES

PERSON_TABLES = ("customers", "cards")


def person_links() -> dict[str, list[tuple[str, str]]]:
    """table -> [(its column, customers|cards)] for every foreign key to a customer or card, and
    every ``card_id`` / ``customer_id`` column kept without one (message_recipients)."""
    import_every_model()
    found: dict[str, list[tuple[str, str]]] = {"customers": [("id", "customers")]}
    for table in Model.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name in PERSON_TABLES:
                found.setdefault(table.name, []).append((key.parent.name, key.column.table.name))
        for column in table.columns:
            target = {"card_id": "cards", "customer_id": "customers"}.get(column.name)
            if target and not column.foreign_keys:
                found.setdefault(table.name, []).append((column.name, target))
    return found


@pytest.mark.once
def test_every_table_naming_a_customer_or_card_is_exported_or_excluded_with_a_reason() -> None:
    linked = set(person_links())
    assert linked - set(TABLES) - set(EXCLUDED) == set(), "export these (rights/export.py)"
    assert all(reason.strip() for reason in EXCLUDED.values())
    assert set(TABLES).isdisjoint(EXCLUDED)
    assert {"consents", "apple_registrations", "outbox_emails", "redemptions"} <= linked


def section(document: dict[str, Any], path: str) -> list[Any]:
    """The items of a section ("orders[].refunds": every order's refunds together)."""
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        return [item for part in document[head[:-2]] for item in section(part, rest)]
    value = document[head]
    if rest:
        return [] if value is None else section(value, rest)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def their_rows(database: Database, member: Member, table_name: str) -> int:
    table = Model.metadata.tables[table_name]
    assert isinstance(table, Table)
    ids = {"customers": member.customer_id, "cards": member.card_id}
    with database.transaction() as session:
        if table_name == "refunds":
            orders = select(Order.id).where(Order.card_id == member.card_id)
            query = select(func.count()).select_from(Refund).where(Refund.order_id.in_(orders))
            return int(session.execute(query).scalar_one())
        if table_name == "inbox_deliveries":
            order_ids = select(Order.external_id).where(Order.card_id == member.card_id)
            query = select(func.count()).select_from(table).where(table.c.order_ref.in_(order_ids))
            return int(session.execute(query).scalar_one())
        if table_name == "customers":
            return 1
        total = 0
        for column, target in person_links()[table_name]:
            query = select(func.count()).select_from(table).where(table.c[column] == ids[target])
            total += int(session.execute(query).scalar_one())
        return total


def export_of(client: FlaskClient, member: Member, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/programs/demo/customers/{member.member_number}/export", headers=headers
    )
    assert response.status_code == 200, response.get_data()[:300]
    assert response.headers["Cache-Control"] == "no-store"
    return json_of(response)


def test_the_export_holds_every_row_of_theirs_and_no_card_secret(
    client: FlaskClient, database: Database, member: Member, manager: dict[str, str]
) -> None:
    document = export_of(client, member, manager)
    assert (document["schema"], document["schema_version"]) == ("walletcards.customer-export", 1)
    for table, path in TABLES.items():
        assert len(section(document, path)) == their_rows(database, member, table), table
    for table in ("orders", "refunds", "ledger_entries", "consents", "apple_registrations"):
        assert their_rows(database, member, table) > 0, f"the member has no {table} to export"
    customer = document["customer"]
    assert (customer["name"], customer["email"], customer["phone"]) == (NAME, EMAIL, PHONE)
    assert (customer["external_id"], customer["birthday"]) == (EXTERNAL_ID, "1990-04-02")
    assert [c["kind"] for c in document["consents"]] == ["marketing"]
    assert document["google_object"]["state"] == "ACTIVE"
    assert document["emails"][0]["recipient"] == EMAIL
    assert {e["type"] for e in document["events"]} >= {"card.issued", "points.changed"}
    assert document["apple_devices"][0]["push_token"] == PUSH_TOKEN[:8] + "…"
    assert document["shop_deliveries"][0]["body"]["customer"]["name"] == NAME
    text = json.dumps(document)
    for secret in (member.auth_token, member.public_token, PUSH_TOKEN):
        assert secret not in text
    assert not {"auth_token", "qr_secret", "public_token"} & set(document["card"])


def cli(database: Database, *args: str) -> Any:
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    return CliRunner().invoke(main, ["customer", *args], env=env)


def test_the_command_line_finds_them_by_email_phone_or_member_number(
    client: FlaskClient, database: Database, member: Member, manager: dict[str, str]
) -> None:
    by_api = export_of(client, member, manager)
    for who in (EMAIL.upper(), "+44 (7700) 900-123", member.member_number):
        result = cli(database, "export", "--program", "demo", who)
        assert result.exit_code == 0, result.output
        document = json.loads(result.output)
        assert document["customer"]["id"] == member.customer_id
        assert {k: v for k, v in document.items() if k != "exported_at"} == {
            k: v for k, v in by_api.items() if k != "exported_at"
        }
    for who, said in (
        ("nobody@example.org", "nobody with"),
        ("", "give an email"),
        ("x" * 400, "give an email"),
        ("hello", "no member"),
    ):
        result = cli(database, "export", "--program", "demo", who)
        assert result.exit_code == 1 and said in result.output, result.output
    unknown = cli(database, "export", "--program", "nope", EMAIL)
    assert unknown.exit_code == 1


def test_the_export_api_is_for_managers_of_the_programme(
    client: FlaskClient,
    member: Member,
    cashier: dict[str, str],
    integration: dict[str, str],
    admin: dict[str, str],
) -> None:
    url = f"/api/v1/programs/demo/customers/{member.member_number}/export"
    assert export_of(client, member, admin)["customer"]["email"] == EMAIL
    for headers, status in (
        ({}, 401),
        ({"Authorization": "Bearer not-a-token"}, 401),
        (cashier, 403),
        (integration, 403),
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == status and "error" in json_of(response)
    for path, status, code in (
        ("/api/v1/programs/other/customers/1/export", 404, "unknown_program"),
        ("/api/v1/programs/demo/customers/0000000000/export", 404, "unknown_member"),
        ("/api/v1/programs/demo/customers/" + "9" * 5000 + "/export", 404, "unknown_member"),
        ("/api/v1/programs/demo/customers/%00/export", 422, None),
        ("/api/v1/programs/demo/customers/%F0%9F%92%A9/export", 404, "unknown_member"),
    ):
        response = client.get(path, headers=admin)
        assert response.status_code == status, (path, response.get_data()[:200])
        if code:
            assert json_of(response)["error"]["code"] == code
