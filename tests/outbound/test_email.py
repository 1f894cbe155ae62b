from __future__ import annotations

import contextlib
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from tests.kit.passes import paid_order
from tests.kit.webhooks import post_orders
from tests.outbound.conftest import Inbox
from walletcards.clients import Clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.outbound.delivery import deliver_emails
from walletcards.outbound.mail import SmtpMailer
from walletcards.outbound.models import OutboxEmail
from walletcards.settings import Secret, Settings


def test_a_new_card_is_emailed_once_with_both_parts_the_link_and_the_qr(
    client: Any,
    database: Database,
    settings: Settings,
    clock: FixedClock,
    smtp: tuple[Any, Inbox],
    clients: Clients,
) -> None:
    answer = paid_order(client, clock, "A-1", locale="ru")
    paid_order(client, clock, "A-2", locale="ru")  # a second order: no second email
    assert deliver_emails(database, settings, clients.mailer, clock.now()) == 1
    assert deliver_emails(database, settings, clients.mailer, clock.now()) == 0
    (message,) = smtp[1].messages
    assert message["To"] == "c-1@example.com" and "Demo Coffee" in message["Subject"]
    assert message["Subject"] == "Ваша карта лояльности Demo Coffee"
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert answer["card"]["url"] in text and answer["card"]["url"] in html
    assert answer["card"]["apple"] in html
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"].strip("<>") in html


def test_smtp_down_is_retried_later(
    client: Any,
    database: Database,
    settings: Settings,
    clock: FixedClock,
    smtp: tuple[Any, Inbox],
    clients: Clients,
) -> None:
    paid_order(client, clock, "A-1")
    dead_relay = Secret("smtp://127.0.0.1:9")
    down = Settings(**{**settings.__dict__, "smtp_url": dead_relay})
    assert deliver_emails(database, down, SmtpMailer(dead_relay), clock.now()) == 0
    with database.transaction() as session:
        row = session.execute(select(OutboxEmail)).scalar_one()
        assert (row.status, row.attempts) == ("pending", 1) and row.last_error
    assert deliver_emails(database, settings, clients.mailer, clock.now()) == 0  # backing off
    clock.advance(timedelta(minutes=10))
    assert deliver_emails(database, settings, clients.mailer, clock.now()) == 1
    assert len(smtp[1].messages) == 1


def test_a_crash_between_sent_and_recorded_resends_at_most_once_with_the_same_message_id(
    client: Any,
    database: Database,
    settings: Settings,
    clock: FixedClock,
    smtp: tuple[Any, Inbox],
    clients: Clients,
) -> None:
    from walletcards.outbound import mail

    paid_order(client, clock, "A-1")
    real_send = mail.send
    crashed = []

    def send_then_crash(smtp_url: str, message: EmailMessage, timeout: float = 20.0) -> None:
        real_send(smtp_url, message)  # the server accepted it...
        crashed.append(True)
        raise SystemExit("worker killed")  # ...and the worker dies before recording

    mail.send = send_then_crash  # what delivery calls: mail.send
    try:
        with contextlib.suppress(SystemExit):
            deliver_emails(database, settings, clients.mailer, clock.now())
    finally:
        mail.send = real_send
    assert crashed and len(smtp[1].messages) == 1
    assert deliver_emails(database, settings, clients.mailer, clock.now()) == 0  # leased: not yet
    clock.advance(timedelta(minutes=6))  # the lease ran out
    assert deliver_emails(database, settings, clients.mailer, clock.now()) == 1
    assert deliver_emails(database, settings, clients.mailer, clock.now() + timedelta(days=1)) == 0
    first, second = smtp[1].messages
    assert first["Message-ID"] == second["Message-ID"]  # the one duplicate is recognisable


def test_customers_without_email_are_skipped_and_recorded(
    client: Any, database: Database, clock: FixedClock
) -> None:
    body = {
        "id": "evt-x",
        "type": "order.paid",
        "order": {
            "id": "X",
            "currency": "USD",
            "paid_at": clock.now().isoformat(),
            "lines": [{"amount": "10.00"}],
        },
        "customer": {"id": "no-email"},
    }
    assert post_orders(client, body, at=int(clock.now().timestamp())).status_code == 200
    with database.transaction() as session:
        row = session.execute(select(OutboxEmail)).scalar_one()
    assert row.status == "skipped" and "no email" in (row.last_error or "")


def test_a_shop_that_sends_the_link_itself_turns_the_email_off(
    make_program: Any, client: Any, database: Database, clock: FixedClock, program: Any
) -> None:
    make_program(
        email={"enabled": False, "from": "x@demo.example"},
        webhooks={"orders_secret": "whsec_orders_secret_0123456789"},
    )
    paid_order(client, clock, "A-1")
    with database.transaction() as session:
        assert session.execute(select(OutboxEmail)).first() is None


def test_resend_card_queues_another_email(
    client: Any,
    database: Database,
    settings: Settings,
    clock: FixedClock,
    smtp: tuple[Any, Inbox],
    clients: Clients,
) -> None:
    from click.testing import CliRunner

    from walletcards.cli import main
    from walletcards.loyalty.models import Card

    paid_order(client, clock, "A-1")
    deliver_emails(database, settings, clients.mailer, clock.now())
    with database.transaction() as session:
        number = session.execute(select(Card.member_number)).scalar_one()
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    result = CliRunner().invoke(main, ["email", "resend", "--program", "demo", number], env=env)
    assert result.exit_code == 0 and "card email pending" in result.output
    from datetime import UTC, datetime

    assert deliver_emails(database, settings, clients.mailer, datetime.now(UTC)) == 1
    assert len(smtp[1].messages) == 2
