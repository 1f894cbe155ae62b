"""The email channel: the outbox sends the message to members with an address (marketing: with
consent, within the weekly cap), with an unsubscribe link that withdraws consent once."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.admin.test_messages_page import figure
from tests.admin.test_metrics import login
from tests.kit.programs import MakeCard, MakeProgram
from tests.kit.web import MakeSettings, json_of
from tests.kit.webhooks import PUBLIC_URL
from tests.messages.helpers import URL, member, message, post
from tests.outbound.conftest import Inbox
from walletcards.clients import Clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.member_models import Consent
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.outbound.delivery import deliver_emails
from walletcards.settings import Secret, Settings
from walletcards.sync.jobs import run_due

DAYTIME = timedelta(hours=3)  # 10:00 in New York: outside the quiet hours
BOTH = ["wallet", "email"]


@pytest.fixture
def inbox() -> Iterator[tuple[int, Inbox]]:
    box = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, box
    controller.stop()


@pytest.fixture
def settings(make_settings: MakeSettings, inbox: tuple[int, Inbox]) -> Settings:
    return make_settings(smtp_url=Secret(f"smtp://127.0.0.1:{inbox[0]}"))


@pytest.fixture
def cards(
    database: Database, make_card: MakeCard, program: Program, clock: FixedClock
) -> dict[str, Card]:
    eve = make_card(program, name="eve")  # no email address
    with database.transaction() as session:
        customer = session.get(Customer, eve.customer_id)
        assert customer is not None
        customer.marketing_consent = True
    return {
        "ann": member(database, make_card, program, clock, "ann"),
        "cid": member(database, make_card, program, clock, "cid", consent=False),
        "dan": member(database, make_card, program, clock, "dan", device=False),
        "eve": eve,
    }


def send_and_mail(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    settings: Settings,
    clients: Clients,
    clock: FixedClock,
    inbox: Inbox,
    **body: Any,
) -> tuple[int, list[EmailMessage]]:
    """Posts a message, runs the sending and the outbox; the message's id and its emails."""
    created = post(client, {**message(), "channels": BOTH, **body}, manager)
    assert created.status_code == 201, created.json
    message_id = int(json_of(created)["message"]["id"])
    run_due(database, clock.now())
    deliver_emails(database, settings, clients.mailer, clock.now())
    prefix = f"<msg-{message_id}-"
    return message_id, [m for m in inbox.messages if str(m["Message-ID"]).startswith(prefix)]


def figures(client: FlaskClient, manager: dict[str, str], message_id: int) -> dict[str, Any]:
    return dict(json_of(client.get(f"{URL}/{message_id}", headers=manager)))


def test_a_marketing_email_goes_to_consenting_members_with_an_unsubscribe_link(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    settings: Settings,
    clients: Clients,
    clock: FixedClock,
    inbox: tuple[int, Inbox],
    cards: dict[str, Card],
) -> None:
    clock.advance(DAYTIME)
    link = "https://demo.example/croissants"
    message_id, mails = send_and_mail(
        client, manager, database, settings, clients, clock, inbox[1], kind="marketing", link=link
    )
    assert sorted(m["To"] for m in mails) == ["ann@example.com", "dan@example.com"]
    mail = mails[0]
    unsubscribe = str(mail["List-Unsubscribe"]).strip().strip("<>")
    assert unsubscribe.startswith(f"{PUBLIC_URL}/unsubscribe/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text_part, html_part = (mail.get_body(preferencelist=(k,)) for k in ("plain", "html"))
    assert text_part is not None and html_part is not None
    for part in (text_part.get_content(), html_part.get_content()):
        assert "Fresh croissants today" in part and link in part and unsubscribe in part
    shown = figures(client, manager, message_id)
    assert shown["emailed"] == 2 and shown["email_failed"] == 0
    assert shown["email_skipped"] == {"no_email": 1, "no_consent": 1, "cap": 0}
    assert shown["cards"] == 1  # the wallet: ann only (dan has no device, cid no consent)
    login(client, "boss@example.com")  # the dashboard's page shows the same email figures
    page = client.get(f"/admin/messages/{message_id}").text
    assert (figure(page, "emailed"), figure(page, "email failed")) == ("2", "0")
    assert figure(page, "email skipped: no address") == "1"
    assert figure(page, "email skipped: no consent") == "1"
    assert figure(page, "email skipped: weekly cap") == "0"


def test_the_unsubscribe_link_withdraws_consent_once_and_later_emails_skip_the_member(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    settings: Settings,
    clients: Clients,
    clock: FixedClock,
    inbox: tuple[int, Inbox],
    cards: dict[str, Card],
) -> None:
    clock.advance(DAYTIME)
    _, mails = send_and_mail(
        client, manager, database, settings, clients, clock, inbox[1], kind="marketing"
    )
    ann = next(m for m in mails if m["To"] == "ann@example.com")
    path = str(ann["List-Unsubscribe"]).strip().strip("<>").removeprefix(PUBLIC_URL)
    page = client.get(path)
    assert page.status_code == 200 and b"<form" in page.data
    one_click = {"List-Unsubscribe": "One-Click"}
    assert client.post(path, data=one_click).status_code == 200
    assert client.post(path, data=one_click).status_code == 200  # again: nothing more
    swapped = "B" if path[-10] == "A" else "A"  # inside the signature: every bit counts there
    forged = path[:-10] + swapped + path[-9:]
    assert client.post(forged, data=one_click).status_code == 404
    with database.transaction() as session:
        customer = session.get(Customer, cards["ann"].customer_id)
        assert customer is not None and customer.marketing_consent is False
        withdrawn = session.scalar(
            select(func.count())
            .select_from(Consent)
            .where(Consent.customer_id == customer.id, Consent.granted.is_(False))
        )
        assert withdrawn == 1
        dan = session.get(Customer, cards["dan"].customer_id)
        assert dan is not None and dan.marketing_consent is True  # only the link's member
    clock.advance(timedelta(days=8))
    later, mails = send_and_mail(
        client, manager, database, settings, clients, clock, inbox[1], kind="marketing"
    )
    assert [m["To"] for m in mails] == ["dan@example.com"]
    assert figures(client, manager, later)["email_skipped"]["no_consent"] == 2


def test_a_service_email_goes_without_consent_and_the_cap_counts_emails(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    settings: Settings,
    clients: Clients,
    clock: FixedClock,
    inbox: tuple[int, Inbox],
    cards: dict[str, Card],
) -> None:
    clock.advance(DAYTIME)
    _, mails = send_and_mail(client, manager, database, settings, clients, clock, inbox[1])
    assert len(mails) == 3  # service: cid too; eve has no address
    for _ in range(2):
        send_and_mail(
            client, manager, database, settings, clients, clock, inbox[1], kind="marketing"
        )
    third, mails = send_and_mail(
        client, manager, database, settings, clients, clock, inbox[1], kind="marketing"
    )
    assert mails == [] and figures(client, manager, third)["email_skipped"]["cap"] == 2


@pytest.mark.parametrize(
    ("channels", "email"),
    [(["email"], True), (BOTH, False)],
)
def test_email_alone_or_without_an_email_setup_is_refused(
    client: FlaskClient,
    manager: dict[str, str],
    make_program: MakeProgram,
    channels: list[str],
    email: bool,
) -> None:
    if not email:
        make_program(email=None)
    refused = post(client, {**message(), "channels": channels}, manager)
    assert refused.status_code == 422
    assert json_of(refused)["error"]["message"].startswith("channels:")


def test_emails_waiting_in_the_outbox_are_withheld_from_who_unsubscribed_or_never_confirmed(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    settings: Settings,
    clients: Clients,
    clock: FixedClock,
    inbox: tuple[int, Inbox],
    cards: dict[str, Card],
) -> None:
    clock.advance(DAYTIME)
    with database.transaction() as session:  # cid signed up and never opened the link
        cid = session.get(Customer, cards["cid"].customer_id)
        assert cid is not None
        cid.confirmed_at = None
    created = post(client, {**message(), "channels": BOTH, "kind": "marketing"}, manager)
    marketing = int(json_of(created)["message"]["id"])
    run_due(database, clock.now())  # queued for ann and dan
    with database.transaction() as session:  # ann unsubscribes before the outbox sends
        ann = session.get(Customer, cards["ann"].customer_id)
        assert ann is not None
        ann.marketing_consent = False
    deliver_emails(database, settings, clients.mailer, clock.now())
    sent = [m for m in inbox[1].messages if str(m["Message-ID"]).startswith(f"<msg-{marketing}-")]
    assert [m["To"] for m in sent] == ["dan@example.com"]
    assert figures(client, manager, marketing)["email_skipped"]["no_consent"] == 2  # ann, cid
    service, mails = send_and_mail(client, manager, database, settings, clients, clock, inbox[1])
    assert sorted(m["To"] for m in mails) == ["ann@example.com", "dan@example.com"]
    assert figures(client, manager, service)["email_skipped"] == {
        "no_email": 1,
        "no_consent": 1,  # cid: an unconfirmed address gets no email but the confirmation
        "cap": 0,
    }
