from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from tests.kit.passes import paid_order, release_holds, statements, token_of
from tests.kit.programs import MakeCard, MakeProgram
from tests.kit.webhooks import ORDERS_SECRET
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


def test_points_all_on_hold_say_the_day_they_become_spendable(
    client: FlaskClient, clock: FixedClock
) -> None:
    # T0 is 1 March 12:00 UTC; the demo holds points 14 days: spendable 15 March (New York)
    html = client.get(f"/c/{token_of(paid_order(client, clock, 'A-1'))}").text
    assert '<p class="balance" id="available">0</p>' in html
    assert '<p class="pending-note" id="pending-note">550 points available from Mar 15</p>' in html


def test_points_partly_on_hold_say_how_many_more_come_and_from_when(
    client: FlaskClient, clock: FixedClock
) -> None:
    paid_order(client, clock, "A-1")
    clock.advance(timedelta(days=20))  # the first hold ended on 15 March
    token = token_of(paid_order(client, clock, "A-2", amount="20.00"))
    html = client.get(f"/c/{token}").text
    assert '<p class="balance" id="available">550</p>' in html
    assert '<p class="pending-note" id="pending-note">+140 points pending from Apr 4</p>' in html
    clock.advance(timedelta(days=15))
    paid_order(client, clock, "A-3", amount="1.00")  # 7 points (Silver); releases the 2nd hold
    html = client.get(f"/c/{token}").text
    assert '<p class="pending-note" id="pending-note">+7 points pending from Apr 19</p>' in html


def test_a_hold_past_its_end_before_the_release_job_ran_says_today(
    client: FlaskClient, clock: FixedClock
) -> None:
    token = token_of(paid_order(client, clock, "A-1"))
    clock.advance(timedelta(days=16))  # 17 March; no write or job has released the points yet
    html = client.get(f"/c/{token}").text
    assert '<p class="pending-note" id="pending-note">550 points available from Mar 17</p>' in html


def test_pending_note_speaks_the_customers_language(client: FlaskClient, clock: FixedClock) -> None:
    html = client.get(f"/c/{token_of(paid_order(client, clock, 'A-1', locale='ru'))}").text
    assert "550 баллов будут доступны с 15 мар" in html  # noqa: RUF001 (Russian on purpose)


def test_nothing_on_hold_means_no_pending_note(
    client: FlaskClient, clock: FixedClock, make_card: MakeCard, make_program: MakeProgram
) -> None:
    card = make_card(make_program(slug="nohold", hold=None), email="n@example.com")
    html = client.get(f"/c/{card.public_token}").text
    assert 'id="available">0<' in html and 'id="pending-note"' not in html


def test_wallet_badges_are_drawn_in_svg_with_no_apple_only_glyph(
    client: FlaskClient, make_program: MakeProgram, make_card: MakeCard, apple_table: dict[str, str]
) -> None:
    both = make_program(
        slug="both",
        apple=apple_table,
        google={"issuer_id": "3388000000012345678", "service_account_file": "sa.json"},
        webhooks={"orders_secret": ORDERS_SECRET},
    )
    card = make_card(both, email="b@example.com")
    html = client.get(f"/c/{card.public_token}").text
    assert "\uf8ff" not in html and not re.search("&#(63743|xf8ff);", html, re.I)  # Apple's logo
    for wallet in ("Apple", "Google"):
        badge = re.search(
            rf'<a class="badge \w+" href="[^"]+" aria-label="Add to {wallet} Wallet">\s*'
            r'<svg [^>]*aria-hidden="true"[^>]*>(.*?)</svg>\s*<span>(.*?)</span></a>',
            html,
            re.S,
        )
        assert badge is not None, wallet
        assert badge.group(1).count("<rect") >= 3  # the wallet icon is drawn, not a glyph
        assert re.sub("<[^>]+>", " ", badge.group(2)).split() == ["Add", "to", wallet, "Wallet"]
    assert f'href="https://cards.example.com/c/{card.public_token}/google"' in html


def test_card_page_shows_the_programmes_logo_in_its_pass_colours(
    client: FlaskClient, clock: FixedClock
) -> None:
    html = client.get(f"/c/{token_of(paid_order(client, clock, 'A-1'))}").text
    logo = re.search(r'<img class="logo" src="([^"]+)"', html)
    assert logo is not None and logo.group(1) == "/p/demo/logo.png"
    image = client.get(logo.group(1))
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data.startswith(b"\x89PNG")
    assert "--bg: #102030;" in html  # the apple table's background_color


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
