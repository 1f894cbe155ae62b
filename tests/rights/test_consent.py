"""Withdrawing marketing consent: the unsubscribe link every email carries (RFC 8058 headers,
a page with a button, the one-click post) and the card page's toggle (CSRF-guarded)."""

from __future__ import annotations

import re
from email.message import EmailMessage

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.fakes.memory import MemoryMailer
from tests.kit.programs import MakeCard
from tests.kit.webhooks import PUBLIC_URL
from tests.rights.conftest import Member
from walletcards.clients import Clients
from walletcards.db import Database
from walletcards.loyalty.member_models import Consent
from walletcards.loyalty.models import Customer, Program
from walletcards.rights.unsubscribe import unsubscribe_token

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def consents(database: Database, member: Member) -> list[tuple[bool, str, str | None]]:
    with database.transaction() as session:
        rows = session.execute(
            select(Consent.granted, Consent.source, Consent.text_version)
            .where(Consent.customer_id == member.customer_id, Consent.kind == "marketing")
            .order_by(Consent.id)
        ).all()
    return [tuple(row) for row in rows]


def consenting(database: Database, member: Member) -> bool:
    with database.transaction() as session:
        customer = session.get(Customer, member.customer_id)
        assert customer is not None
        return customer.marketing_consent


def sent_email(clients: Clients) -> EmailMessage:
    mailer = clients.mailer
    assert isinstance(mailer, MemoryMailer)
    (message,) = mailer.sent
    return message


def test_every_email_carries_an_unsubscribe_link_that_withdraws_once(
    client: FlaskClient, database: Database, member: Member, clients: Clients
) -> None:
    message = sent_email(clients)
    header = message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(https://\S+)>", header)
    assert url is not None and url.group(1).startswith(f"{PUBLIC_URL}/unsubscribe/")
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert url.group(1) in text.get_content() and url.group(1) in html.get_content()
    path = url.group(1).removeprefix(PUBLIC_URL)

    page = client.get(path)  # a mail scanner opening the link withdraws nothing
    assert page.status_code == 200 and 'id="unsubscribe"' in page.get_data(as_text=True)
    assert consenting(database, member) and consents(database, member) == [(True, "join", "1")]

    done = client.post(path, data=ONE_CLICK)  # the mail client's one-click post
    assert done.status_code == 200 and 'id="unsubscribed"' in done.get_data(as_text=True)
    assert not consenting(database, member)
    again = client.post(path, data=ONE_CLICK)
    assert again.status_code == 200 and 'id="unsubscribed"' in again.get_data(as_text=True)
    assert consents(database, member) == [(True, "join", "1"), (False, "email_link", None)]


def test_a_bad_unsubscribe_link_is_a_404_and_changes_nothing(
    client: FlaskClient, database: Database, member: Member
) -> None:
    for token in (
        "garbage",
        unsubscribe_token("another-secret-key-0123456789", member.customer_id),
        unsubscribe_token("test-secret-key-0123456789", 999_999),
        "x" * 5000,
        "%00",
    ):
        for response in (client.get(f"/unsubscribe/{token}"), client.post(f"/unsubscribe/{token}")):
            assert response.status_code == 404, token[:40]
    assert consenting(database, member)


def form_token(page: str) -> str:
    section = page.split('id="consent"', 1)[1]
    found = re.search(r'name="form" value="([^"]+)"', section)
    assert found is not None
    return found.group(1)


def test_the_card_page_toggles_offers_with_its_form_token(
    client: FlaskClient, database: Database, member: Member
) -> None:
    page = client.get(f"/c/{member.public_token}").get_data(as_text=True)
    assert "You receive our offers." in page and 'value="off"' in page
    token = form_token(page)
    url = f"/c/{member.public_token}/consent"
    for data, status in (
        ({"marketing": "off"}, 403),  # no form token: another site's post
        ({"marketing": "off", "form": token[:-2] + "xx"}, 403),
        ({"marketing": "off", "form": "a" * 1000}, 403),
        ({"marketing": "maybe", "form": token}, 400),
    ):
        refused = client.post(url, data=data)
        assert refused.status_code == status, data
    assert consenting(database, member)

    off = client.post(url, data={"marketing": "off", "form": token})
    assert off.status_code == 200 and "You will not receive offers any more." in off.get_data(
        as_text=True
    )
    assert not consenting(database, member)
    on = client.post(url, data={"marketing": "on", "form": form_token(off.get_data(as_text=True))})
    assert on.status_code == 200 and "You receive our offers." in on.get_data(as_text=True)
    assert consents(database, member) == [
        (True, "join", "1"),
        (False, "card_page", None),
        (True, "card_page", None),
    ]


def test_a_form_token_of_another_card_is_refused(
    client: FlaskClient,
    database: Database,
    member: Member,
    program: Program,
    make_card: MakeCard,
) -> None:
    other = make_card(program, email="someone.else@example.org")
    page = client.get(f"/c/{other.public_token}").get_data(as_text=True)
    data = {"marketing": "off", "form": form_token(page)}
    assert client.post(f"/c/{member.public_token}/consent", data=data).status_code == 403
    assert client.post("/c/nosuchcard/consent", data=data).status_code == 404
    assert consenting(database, member)
