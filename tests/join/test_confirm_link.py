"""The confirmation link: it confirms only the sign-up it was sent for, for a week."""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.join.pages import link_in, send_emails, sign_up
from tests.kit.web import SECRET_KEY
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.join.links import confirm_token
from walletcards.loyalty.models import Customer, Program
from walletcards.settings import Settings


@pytest.fixture
def link(client: FlaskClient, database: Database, settings: Settings, clock: FixedClock) -> str:
    assert sign_up(client).status_code == 200
    (email,) = send_emails(database, settings, clock)
    return link_in(email)


def confirmed(database: Database) -> bool:
    with database.transaction() as session:
        return session.execute(select(Customer.confirmed_at)).scalar_one() is not None


def test_a_tampered_or_foreign_token_is_404_and_confirms_nothing(
    client: FlaskClient, database: Database, link: str, program: Program
) -> None:
    token = link.rsplit("/", 1)[-1]
    with database.transaction() as session:
        customer_id = session.execute(select(Customer.id)).scalar_one()
    forged = [
        token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),
        "x" * 400,
        "a%00b",
        confirm_token("another-secret-key-0123456789", program.id, customer_id, "ann@example.com"),
        confirm_token(SECRET_KEY, program.id + 1, customer_id, "ann@example.com"),
        confirm_token(SECRET_KEY, program.id, customer_id, "mallory@example.com"),
        confirm_token(SECRET_KEY, program.id, customer_id + 1, "ann@example.com"),
    ]
    for bad in forged:
        answer = client.get(f"/join/demo/confirm/{bad}")
        assert answer.status_code == 404, bad
        assert "This link is not valid" in answer.get_data(as_text=True)
    assert client.get(f"/join/nope/confirm/{token}").status_code == 404
    assert not confirmed(database)


def test_an_expired_link_is_410_and_offers_to_sign_up_again(
    client: FlaskClient, database: Database, link: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    later = time.time() + 8 * 24 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    answer = client.get(link)
    assert answer.status_code == 410
    html = answer.get_data(as_text=True)
    assert "expired" in html and 'href="/join/demo"' in html
    assert not confirmed(database)


def test_a_link_stops_working_when_the_address_is_no_longer_the_members(
    client: FlaskClient, database: Database, link: str
) -> None:
    with database.transaction() as session:
        session.execute(select(Customer)).scalar_one().email = "changed@example.com"
    assert client.get(link).status_code == 404 and not confirmed(database)


def test_confirmation_links_are_rate_limited_per_address(client: FlaskClient, link: str) -> None:
    statuses = [client.get(link + "x").status_code for _ in range(31)]
    assert statuses == [404] * 30 + [429]
    assert client.get(link, environ_base={"REMOTE_ADDR": "10.3.3.3"}).status_code == 303


def test_an_erased_members_link_confirms_nothing(
    client: FlaskClient, database: Database, link: str, clock: FixedClock
) -> None:
    with database.transaction() as session:
        session.execute(select(Customer)).scalar_one().erased_at = clock.now()
    assert client.get(link).status_code == 404 and not confirmed(database)
