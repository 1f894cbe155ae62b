from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from tests.apple.helpers import paid_order, statements, token_of
from tests.apple.test_pkpass import release_holds
from tests.conftest import MakeProgram
from tests.orders.conftest import ORDERS_SECRET
from walletcards.clock import FixedClock
from walletcards.db import Database


def test_card_page_shows_balance_tier_progress_and_wallet_buttons(
    client: FlaskClient, clock: FixedClock
) -> None:
    token = token_of(paid_order(client, clock, "A-1"))
    page = client.get(f"/c/{token}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<p id="pending">550</p>' in html and '<p id="tier">Bronze</p>' in html
    assert "4 more orders to your reward" in html
    assert f"/c/{token}/card.pkpass" in html and "Add to Apple Wallet" in html
    assert "Add to Google Wallet" not in html  # no [google] table
    assert f"/c/{token}/qr.svg" in html


def test_qr_code_is_an_svg(client: FlaskClient, clock: FixedClock) -> None:
    token = token_of(paid_order(client, clock, "A-1"))
    response = client.get(f"/c/{token}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.data.lstrip().startswith(b"<?xml") and b"<svg" in response.data


def test_unknown_and_malformed_tokens_answer_the_same_404(
    client: FlaskClient, clock: FixedClock
) -> None:
    token = token_of(paid_order(client, clock, "A-1"))
    answers = {
        (r.status_code, r.get_data(as_text=True))
        for r in (
            client.get(f"/c/{'A' * len(token)}"),
            client.get("/c/short"),
            client.get(f"/c/{token}X"),
            client.get(f"/c/{'é' * 80}/card.pkpass"),
            client.get(f"/c/{token[:-1]}/qr.svg"),
        )
    }
    assert answers == {(404, '{"error":{"code":"not_found","message":"no such card"}}\n')}


MALFORMED_CARD_PATHS = [
    "/c/a%00b",
    "/c/a%00b/card.pkpass",
    "/c/a%00b/qr.svg",
    "/c/a%00b/google",
    "/c/%00",
    "/c/a%01b/card.pkpass",
    "/c/a%20b",
    f"/c/{'A' * 65}",
    f"/c/{'A' * 5000}/card.pkpass",
]


def test_tokens_with_nul_control_characters_or_over_64_characters_are_404_without_a_query(
    app: Flask, client: FlaskClient
) -> None:
    for path in MALFORMED_CARD_PATHS:
        with statements(app) as seen:
            response = client.get(path)
        assert (response.status_code, response.get_data(as_text=True)) == (
            404,
            '{"error":{"code":"not_found","message":"no such card"}}\n',
        ), path
        assert seen == [], path


def test_a_logo_for_a_malformed_slug_is_404_without_a_query(
    app: Flask, client: FlaskClient
) -> None:
    for slug in ("a%00b", "%00", "Demo", "a" * 64, "a" * 5000, "-demo"):
        with statements(app) as seen:
            response = client.get(f"/p/{slug}/logo.png")
        assert response.status_code == 404 and response.json is not None, slug
        assert response.json["error"]["code"] == "not_found"
        assert seen == [], slug
    assert client.get("/p/demo/logo.png").status_code == 200


def test_card_page_says_what_the_points_are_worth_in_the_cards_language(
    client: FlaskClient,
    clock: FixedClock,
    database: Database,
    make_program: MakeProgram,
    apple_table: dict[str, str],
) -> None:
    english = token_of(paid_order(client, clock, "A-1", "50.00"))
    russian = token_of(paid_order(client, clock, "R-1", "50.00", locale="ru", customer="c-ru"))
    clock.advance(timedelta(days=15))
    release_holds(database, clock.now())
    assert '<p id="value">550 points = $5.50</p>' in client.get(f"/c/{english}").text
    assert '<p id="value">550 баллов = 5,50\xa0$</p>' in client.get(f"/c/{russian}").text
    # without [redemption] point_value points show no money value
    make_program(apple=apple_table, webhooks={"orders_secret": ORDERS_SECRET}, redemption=None)
    assert 'id="value"' not in client.get(f"/c/{english}").text
