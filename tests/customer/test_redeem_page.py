"""The card page's "spend points online": the form, the code, open codes, cancel, CSRF, limits."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.kit.programs import MakeCard, MakeProgram, demo_document, reload_card
from tests.loyalty.test_ledger import give
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.redemption_models import Redemption

FORM = re.compile(r'name="form" value="([^"]+)"')


@pytest.fixture
def shop(make_program: MakeProgram) -> Program:
    return make_program()  # the demo: point_value 0.01, 100..5000 points, DEMO- codes


@pytest.fixture
def card(shop: Program, make_card: MakeCard, database: Database, clock: FixedClock) -> Card:
    made = make_card(shop, email="ann@example.com", name="Ann")
    give(database, made, clock, 1500, "g")
    return made


@pytest.fixture
def funded(make_card: MakeCard, shop: Program, database: Database, clock: FixedClock) -> MakeCard:
    """Another card of the programme, with 1000 points (so its page has the form)."""

    def make(email: str) -> Card:
        made = make_card(shop, email=email)
        give(database, made, clock, 1000, f"g-{email}")
        return made

    return make


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def page(client: FlaskClient, card: Card) -> str:
    answer = client.get(f"/c/{card.public_token}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def form_of(text: str) -> str:
    found = FORM.search(text)
    assert found is not None
    return html.unescape(found.group(1))


def reserve(
    client: FlaskClient, card: Card, points: object, form: str | None = None
) -> TestResponse:
    data = {"points": str(points)}
    data["form"] = form if form is not None else form_of(page(client, card))
    return client.post(f"/c/{card.public_token}/redemptions", data=data)


def state(database: Database, card: Card) -> tuple[int, list[tuple[str, int]]]:
    with database.transaction() as session:
        fresh = reload_card(session, card.id)
        rows = session.execute(
            select(Redemption.status, Redemption.points)
            .where(Redemption.card_id == card.id)
            .order_by(Redemption.id)
        ).all()
        return fresh.available, [(s, p) for s, p in rows]


def test_the_form_shows_only_when_points_have_a_money_value(
    client: FlaskClient, card: Card, make_program: MakeProgram, make_card: MakeCard
) -> None:
    text = page(client, card)
    assert "Spend points online" in text and 'id="reserve"' in text
    assert "1 point = $0.01" in text and 'max="1500"' in text and 'min="100"' in text
    unvalued = make_program(slug="plain", redemption={"allow_lookup": False})
    other = make_card(unvalued, email="bob@example.com")
    assert "Spend points online" not in page(client, other)


def test_steps_are_buttons_with_their_value(
    client: FlaskClient,
    make_program: MakeProgram,
    make_card: MakeCard,
    database: Database,
    clock: FixedClock,
) -> None:
    document = demo_document()
    stepped = make_program(redemption={**document["redemption"], "steps": [500, 1000, 2000]})
    made = make_card(stepped, email="cy@example.com")
    give(database, made, clock, 1200, "g")
    text = page(client, made)
    assert 'name="points" value="500">500 points = $5.00</button>' in text
    assert 'value="2000" disabled>' in text  # more than the balance
    answer = reserve(client, made, 700)
    assert answer.status_code == 422
    assert "Choose one of the amounts offered: 500, 1,000, 2,000." in answer.get_data(as_text=True)
    assert state(database, made) == (1200, [])


def test_reserve_shows_the_code_and_the_open_list_and_cancel_gives_points_back(
    client: FlaskClient, card: Card, database: Database
) -> None:
    answer = reserve(client, card, 500)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200
    code = re.search(r'id="new-code">(DEMO-[A-Z0-9]{10})<', text)
    assert code is not None
    assert 'href="https://shop.demo-coffee.example"' in text and "Shop now" in text
    assert 'id="available">1000<' in text
    assert state(database, card) == (1000, [("reserved", 500)])
    listed = page(client, card)
    assert code.group(1) in listed and "500 points = $5.00" in listed and "valid until" in listed
    with database.transaction() as session:
        made = session.execute(select(Redemption).where(Redemption.card_id == card.id)).scalar_one()
        assert (made.channel, made.status) == ("card", "reserved")
    cancel = client.post(
        f"/c/{card.public_token}/redemptions/{made.id}/release", data={"form": form_of(listed)}
    )
    assert cancel.status_code == 200
    assert "500 points are back on your card" in cancel.get_data(as_text=True)
    assert state(database, card) == (1500, [("released", 500)])
    assert code.group(1) not in page(client, card)


def test_a_replayed_form_gets_the_same_code_and_reserves_once(
    client: FlaskClient, card: Card, database: Database
) -> None:
    form = form_of(page(client, card))
    first = reserve(client, card, 300, form).get_data(as_text=True)
    again = reserve(client, card, 300, form).get_data(as_text=True)
    codes = {re.search(r'id="new-code">([^<]+)<', t).group(1) for t in (first, again)}  # type: ignore[union-attr]
    assert len(codes) == 1
    assert state(database, card) == (1200, [("reserved", 300)])
    other = reserve(client, card, 400, form)  # the same nonce with other points: refused
    assert other.status_code == 409
    assert state(database, card) == (1200, [("reserved", 300)])


@pytest.mark.parametrize(
    ("points", "status", "says"),
    [
        (1600, 422, "You have only 1,500 points available."),
        (50, 422, "A code needs at least 100 points."),
        (6000, 422, "A code can use at most 5,000 points."),
        ("12a", 400, "Enter a whole number of points."),
        ("", 400, "Enter a whole number of points."),
        ("9" * 5000, 400, "Enter a whole number of points."),
        ("1\x00", 400, "Enter a whole number of points."),
    ],
)
def test_refusals_show_on_the_page_and_change_nothing(
    client: FlaskClient, card: Card, database: Database, points: str, status: int, says: str
) -> None:
    answer = reserve(client, card, points)
    assert answer.status_code == status
    assert says in answer.get_data(as_text=True)
    assert state(database, card) == (1500, [])


@pytest.mark.parametrize("form", [None, "", "garbage", "x" * 5000, "a\x00b", "other-card"])
def test_without_a_valid_form_token_nothing_changes(
    client: FlaskClient, card: Card, database: Database, form: str | None, funded: MakeCard
) -> None:
    data = {"points": "500"}
    if form == "other-card":
        data["form"] = form_of(page(client, funded("eve@example.com")))
    elif form is not None:
        data["form"] = form
    answer = client.post(f"/c/{card.public_token}/redemptions", data=data)
    assert answer.status_code == 403
    assert "This form has expired" in answer.get_data(as_text=True)
    assert state(database, card) == (1500, [])
    reserve(client, card, 500)
    with database.transaction() as session:
        made_id = session.execute(select(Redemption.id)).scalar_one()
    refused = client.post(f"/c/{card.public_token}/redemptions/{made_id}/release", data=data)
    assert refused.status_code == 403
    assert state(database, card) == (1000, [("reserved", 500)])


def test_an_expired_form_token_is_refused(
    client: FlaskClient, card: Card, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    form = form_of(page(client, card))
    import time

    later = time.time() + 13 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert reserve(client, card, 500, form).status_code == 403
    assert state(database, card) == (1500, [])


def test_another_cards_code_cannot_be_cancelled(
    client: FlaskClient, card: Card, database: Database, funded: MakeCard
) -> None:
    reserve(client, card, 500)
    other = funded("eve@example.com")
    with database.transaction() as session:
        made_id = session.execute(select(Redemption.id)).scalar_one()
    answer = client.post(
        f"/c/{other.public_token}/redemptions/{made_id}/release",
        data={"form": form_of(page(client, other))},
    )
    assert answer.status_code == 404
    huge = client.post(
        f"/c/{other.public_token}/redemptions/{10**30}/release",
        data={"form": form_of(page(client, other))},
    )
    assert huge.status_code == 404
    assert state(database, card) == (1000, [("reserved", 500)])


def test_posts_are_rate_limited_per_card(
    client: FlaskClient, card: Card, database: Database
) -> None:
    form = form_of(page(client, card))
    statuses = [
        client.post(f"/c/{card.public_token}/redemptions", data={"points": "1", "form": form})
        for _ in range(11)
    ]
    assert [a.status_code for a in statuses[:10]] == [422] * 10
    assert statuses[10].status_code == 429 and int(statuses[10].headers["Retry-After"]) >= 1
    assert "Too many attempts" in statuses[10].get_data(as_text=True)
    with database.transaction() as session:
        assert session.execute(select(func.count(Redemption.id))).scalar_one() == 0


def test_posts_are_rate_limited_per_address(client: FlaskClient, funded: MakeCard) -> None:
    cards = [funded(f"p{n}@example.com") for n in range(4)]
    forms = {c.public_token: form_of(page(client, c)) for c in cards}
    statuses = [
        client.post(
            f"/c/{c.public_token}/redemptions", data={"points": "1", "form": forms[c.public_token]}
        ).status_code
        for c in cards
        for _ in range(8)
    ]
    assert statuses[:30] == [422] * 30 and statuses[30:] == [429, 429]


def test_unknown_card_posts_are_404(client: FlaskClient) -> None:
    assert client.post("/c/nosuchcard/redemptions", data={"points": "1"}).status_code == 404
    assert client.post("/c/a%00b/redemptions/1/release").status_code == 404


def test_the_section_speaks_the_customers_language(
    client: FlaskClient, shop: Program, make_card: MakeCard, database: Database, clock: FixedClock
) -> None:
    made = make_card(shop, email="ivan@example.com", locale="ru")
    give(database, made, clock, 1500, "g-ru")
    text = page(client, made)
    assert "Потратить баллы онлайн" in text and "Получить код" in text
    refused = reserve(client, made, 50)
    assert "Для кода нужно не менее 100 баллов." in refused.get_data(as_text=True)


def test_the_amount_input_carries_what_the_script_needs_for_the_live_value(
    client: FlaskClient, card: Card
) -> None:
    text = page(client, card)
    for hint in (
        'id="points-input"',
        'data-point-value="0.01"',
        'data-currency="USD"',
        'data-exponent="2"',
        'data-locale="en"',
    ):
        assert hint in text, hint
    shown = '<output id="points-value" for="points-input" aria-live="polite">= $1.00</output>'
    assert shown in text  # the form's first amount, before (or without) the script
