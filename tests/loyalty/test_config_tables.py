"""The programme file's service tables, typed once at parse (loyalty/config_tables.py)."""

from __future__ import annotations

import pytest

from tests.kit.programs import demo_document
from walletcards.loyalty.config import parse_program
from walletcards.loyalty.config_tables import Colour, EventEndpoint, ProgramSecret

VARIABLE = "CARDS_TEST_TABLES_SECRET"


def test_the_demo_tables_are_typed() -> None:
    config = parse_program(demo_document())
    assert config.apple is not None and config.apple.pass_type_identifier == "pass.com.example.demo"
    assert config.apple.private_key_password == ProgramSecret("env:DEMO_PASS_KEY_PASSWORD")
    assert config.email is not None and config.email.sender.endswith("<cards@demo.example>")
    assert config.email.enabled and config.email.reply_to is None
    assert config.google is None and config.events == ()
    shopify = config.webhooks.source("shopify")
    assert shopify.shop == "demo-coffee-roasters.myshopify.com"
    assert shopify.secret is not None and shopify.secret.variable == "DEMO_SHOPIFY_SECRET"
    assert config.webhooks.source("orders").shop is None
    assert ("webhooks.orders_secret", ProgramSecret("env:DEMO_ORDERS_SECRET")) in (
        config.references
    )


def test_a_programme_without_the_tables_has_none() -> None:
    config = parse_program(demo_document(webhooks=None, apple=None, email=None))
    assert config.apple is None and config.email is None
    assert config.webhooks.source("orders").secret is None


def test_colours_are_parsed_once_into_each_wallets_form() -> None:
    apple = dict(demo_document()["apple"])
    apple.update(background_color="rgb(16, 32,48)", foreground_color="#FFaa00")
    config = parse_program(demo_document(apple=apple))
    assert config.apple is not None
    background = config.apple.colours["background_color"]
    foreground = config.apple.colours["foreground_color"]
    assert (background.wallet, background.hex) == ("rgb(16, 32,48)", "#102030")
    assert (foreground.wallet, foreground.hex) == ("rgb(255, 170, 0)", "#FFaa00")
    assert "label_color" not in config.apple.colours
    assert Colour.parse("#12345") is None and Colour.parse("red") is None


def test_events_are_typed_with_the_types_they_want() -> None:
    events = [
        {"url": "https://crm.example.com/a", "secret": "literal-secret"},
        {"url": "https://crm.example.com/b", "secret": f"env:{VARIABLE}", "types": []},
    ]
    every, none = parse_program(demo_document(events=events)).events
    assert isinstance(every, EventEndpoint) and every.wants("tier.changed")
    assert not none.wants("tier.changed")


def test_a_secret_is_read_from_the_environment_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = ProgramSecret(f"env:{VARIABLE}")
    monkeypatch.delenv(VARIABLE, raising=False)
    assert secret.reveal() is None and secret.unset_variable() == VARIABLE
    monkeypatch.setenv(VARIABLE, "set-later")
    assert secret.reveal() == "set-later" and secret.unset_variable() is None
    literal = ProgramSecret("whsec_literal_0123456789")
    assert literal.reveal() == "whsec_literal_0123456789" and literal.variable is None
    assert "whsec" not in repr(literal) and "whsec" not in str(literal)
    assert VARIABLE in repr(secret)
    assert ProgramSecret.of("") is None and ProgramSecret.of(5) is None


def test_a_parsed_programme_shows_no_literal_secret_in_its_repr() -> None:
    webhooks = {"orders_secret": "whsec_literal_0123456789"}
    config = parse_program(demo_document(webhooks=webhooks))
    assert config.webhooks.source("orders").secret == ProgramSecret("whsec_literal_0123456789")
    assert "whsec" not in repr(config)
