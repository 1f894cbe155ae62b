"""The referral link on the card: the pass's back, the Google object's text module, and a
sign-up held for its email confirmation gets the friend's reward only once confirmed."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.join.pages import JOIN, link_in, send_emails, sign_up
from tests.kit.passes import fields, paid_order, pass_json, token_of, unpack
from tests.kit.programs import MakeCard, MakeProgram
from tests.kit.webhooks import ORDERS_SECRET, PUBLIC_URL
from tests.referrals.test_referrals import REFERRAL, code_of, referral_points, rows
from walletcards.cardface import card_face
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.google.objects import loyalty_object
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.referral_models import Referral
from walletcards.settings import Settings


def test_the_pass_back_shows_the_referral_link(
    client: FlaskClient, make_program: MakeProgram, clock: FixedClock, database: Database
) -> None:
    make_program(referral=REFERRAL, webhooks={"orders_secret": ORDERS_SECRET})
    token = token_of(paid_order(client, clock, "A-1"))
    answer = client.get(f"/c/{token}/card.pkpass")
    assert answer.status_code == 200
    with database.transaction() as session:
        card = session.execute(select(Card).where(Card.public_token == token)).scalar_one()
        code = code_of(card)
    found = fields(pass_json(unpack(answer.get_data())))
    assert found["referral"]["value"] == f"{PUBLIC_URL}/r/{code}"


def test_the_google_object_has_a_referral_text_module_only_with_referrals(
    make_program: MakeProgram, make_card: MakeCard, database: Database, clock: FixedClock
) -> None:
    for table, expected in ((REFERRAL, True), (None, False)):
        program = make_program(referral=table)
        card = make_card(program, email=f"bob{expected}@example.com", name="Bob")
        with database.transaction() as session:
            program = session.get(Program, program.id) or program
            face = card_face(session, program, card, clock.now(), "secret")
        url = f"{PUBLIC_URL}/c/{card.public_token}"
        body = loyalty_object("3388000000012345678", "demo", card.serial, face, url)
        modules = {m["id"]: m["body"] for m in body["textModulesData"]}
        if expected:
            assert modules["referral"] == f"{PUBLIC_URL}/r/{code_of(card)}"
        else:
            assert "referral" not in modules


def test_a_held_sign_up_gets_the_friends_reward_when_confirmed(
    client: FlaskClient,
    make_program: MakeProgram,
    make_card: MakeCard,
    database: Database,
    settings: Settings,
    clock: FixedClock,
) -> None:
    shop = make_program(join=JOIN, referral=REFERRAL)
    code = code_of(make_card(shop, email="bob@example.com", name="Bob"))
    assert sign_up(client, query=f"?ref={code}", ref=code).status_code == 200
    assert rows(database) == [("pending", None)]
    assert referral_points(database, "friend") == 0  # held until the email link is opened
    (email,) = [e for e in send_emails(database, settings, clock) if e["To"] == "ann@example.com"]
    link = link_in(email)
    assert client.get(link).status_code == 303
    assert client.get(link).status_code == 303
    assert referral_points(database, "friend") == 150


def test_a_held_sign_up_gets_its_discount_code_when_confirmed_once(
    client: FlaskClient,
    make_program: MakeProgram,
    make_card: MakeCard,
    database: Database,
    settings: Settings,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEMO_SHOPIFY_TOKEN", "shpat_0123456789abcdef0123456789abcdef")
    shop = make_program(
        join=JOIN,
        referral={"referrer_points": 500, "friend_reward": {"discount": "7.50"}},
        shopify={"admin_token": "env:DEMO_SHOPIFY_TOKEN"},
        webhooks={"shopify_secret": "s" * 32, "shopify_shop_domain": "demo.myshopify.com"},
    )
    code = code_of(make_card(shop, email="bob@example.com", name="Bob"))
    assert sign_up(client, query=f"?ref={code}", ref=code).status_code == 200

    def codes() -> list[tuple[str | None, str | None, int | None]]:
        with database.transaction() as session:
            found = session.execute(select(Referral).order_by(Referral.id)).scalars()
            return [(r.friend_code, r.friend_code_state, r.friend_code_minor) for r in found]

    assert codes() == [(None, None, None)]  # held until the email link is opened
    (email,) = [e for e in send_emails(database, settings, clock) if e["To"] == "ann@example.com"]
    link = link_in(email)
    assert client.get(link).status_code == 303
    ((made, state, minor),) = codes()
    assert made is not None and (state, minor) == ("pending", 750)
    assert client.get(link).status_code == 303
    assert codes() == [(made, "pending", 750)]  # the same code: one per friend
    assert referral_points(database, "friend") == 0  # a code instead of points
