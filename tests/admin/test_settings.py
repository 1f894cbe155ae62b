"""Programme settings over the owner's API: validated like the TOML file, secrets never shown."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.admin.test_api import BASE
from tests.kit.web import json_of
from tests.kit.webhooks import ORDERS_SECRET
from walletcards import create_app
from walletcards.db import Database
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_rules

URL = f"{BASE}/settings"


@pytest.fixture
def program(apple_program: Program) -> Program:
    """The Apple kit's programme (passes, the signed-JSON webhook)."""
    return apple_program


def read(client: FlaskClient, manager: dict[str, str]) -> dict[str, Any]:
    answer = client.get(URL, headers=manager)
    assert answer.status_code == 200
    assert answer.headers["ETag"] == f'"{json_of(answer)["version"]}"'
    return json_of(answer)


def put(client: FlaskClient, config: Any, manager: dict[str, str], **headers: str) -> Any:
    return client.put(URL, json={"config": config}, headers={**manager, **headers})


def stored(database: Database) -> Program:
    with database.transaction() as session:
        found = session.query(Program).filter_by(slug="demo").one()
        session.expunge(found)
    return found


def test_settings_hide_literal_secrets_and_keep_them_when_sent_back(
    client: FlaskClient, database: Database, manager: dict[str, str]
) -> None:
    current = read(client, manager)
    config = current["config"]
    assert config["webhooks"]["orders_secret"] == "<hidden>"
    assert ORDERS_SECRET not in str(current)
    assert config["apple"]["private_key_password"] == "env:TEST_PASS_KEY_PASSWORD"  # not secret
    config["welcome"]["points"] = 450
    changed = put(client, config, manager, **{"If-Match": f'"{current["version"]}"'})
    assert changed.status_code == 200 and changed.json["outcome"] == "updated", changed.json
    program = stored(database)
    assert program.config["webhooks"]["orders_secret"] == ORDERS_SECRET
    rules = program_rules(program)
    assert rules.welcome is not None and rules.welcome.points == 450
    assert put(client, config, manager).json["outcome"] == "unchanged"


def test_a_stale_version_is_refused(
    client: FlaskClient, database: Database, manager: dict[str, str]
) -> None:
    config = read(client, manager)["config"]
    config["welcome"]["points"] = 100
    stale = put(client, config, manager, **{"If-Match": '"0000"'})
    assert stale.status_code == 412 and stale.json["error"]["code"] == "stale_settings"
    assert program_rules(stored(database)).welcome.points == 300  # type: ignore[union-attr]


def test_invalid_settings_are_refused_with_the_field_and_change_nothing(
    client: FlaskClient, database: Database, manager: dict[str, str]
) -> None:
    before = stored(database).config_hash
    config = read(client, manager)["config"]

    def edited(change: Any) -> dict[str, Any]:
        document: dict[str, Any] = copy.deepcopy(config)
        change(document)
        return document

    cases = [
        (lambda d: d["earning"].update(points_per_unit="-1"), "earning.points_per_unit"),
        (lambda d: d.update(surprise=True), "surprise"),
        (lambda d: d.update(slug="renamed"), "slug"),
        (lambda d: d.update(currency="EUR"), "currency"),
        (lambda d: d["apple"].update(certificate="/etc/passwd"), "apple"),
        (lambda d: d["webhooks"].update(shopify_secret="env:WALLETCARDS_SECRET_KEY"), "env:"),
        (lambda d: d["webhooks"].update(shopify_secret="<hidden>"), "webhooks.shopify_secret"),
    ]
    for change, field in cases:
        answer = put(client, edited(change), manager)
        assert answer.status_code == 422, (field, answer.json)
        assert answer.json["error"]["code"] == "invalid_settings"
        assert field in answer.json["error"]["message"], (field, answer.json)
    bodies: tuple[Any, ...] = (None, [], "toml", {"config": "x"})
    for body in bodies:
        bad = client.put(URL, json=body, headers=manager)
        assert bad.status_code in (400, 422) and set(json_of(bad)["error"]) == {"code", "message"}
    assert stored(database).config_hash == before


def test_event_urls_must_be_https_to_public_hosts_outside_development(
    app: Flask, client: FlaskClient, database: Database, manager: dict[str, str]
) -> None:
    before = stored(database).config_hash
    config = read(client, manager)["config"]
    for url, reason in [
        ("http://127.0.0.1:5432/", "must be https"),
        ("https://127.0.0.1:5432/", "loopback"),
        ("https://[::ffff:169.254.169.254]/", "link-local"),
        ("https://10.0.0.8/hook", "private"),
        ("https://2130706433/", "not an IP address"),
        ("https://localhost/", "loopback name"),
        ("https://user:pw@crm.example.com/", "user name or password"),
    ]:
        events = [{"url": url, "secret": "whsec_events_0123456789"}]
        answer = put(client, {**config, "events": events}, manager)
        assert answer.status_code == 422, (url, answer.json)
        assert "events[0].url: " in answer.json["error"]["message"], answer.json
        assert reason in answer.json["error"]["message"], (url, answer.json)
    assert stored(database).config_hash == before
    public = [{"url": "https://crm.example.com/hook", "secret": "whsec_events_0123456789"}]
    assert put(client, {**config, "events": public}, manager).json["outcome"] == "updated"
    settings = replace(app.extensions["walletcards.settings"], dev=True)
    dev_app = create_app(settings, app.extensions["walletcards.clients"])
    loopback = [{"url": "http://127.0.0.1:5432/", "secret": "whsec_events_0123456789"}]
    answer = put(dev_app.test_client(), {**config, "events": loopback}, manager)
    dev_app.extensions["walletcards.db"].dispose()
    assert answer.status_code == 200, answer.json
