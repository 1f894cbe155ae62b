"""Signing up on /join/<slug>: with the email confirmed first (the default) and without."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.join.pages import JOIN, link_in, rows, send_emails, sign_up, text_of
from tests.kit.programs import MakeProgram
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.member_models import Consent
from walletcards.loyalty.models import Card, Customer
from walletcards.outbound.models import OutboxEmail
from walletcards.settings import Settings


def test_the_form_offers_each_field_terms_and_an_unticked_marketing_box(
    client: FlaskClient,
) -> None:
    page = client.get("/join/demo")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Cache-Control"] == "no-store"
    for name in ("name", "email", "phone", "birthday", "language", "terms", "marketing"):
        assert f'name="{name}"' in html
    assert 'href="https://shop.example/terms"' in html
    assert 'name="marketing" value="yes">' in html  # not checked
    assert 'name="website"' in html and 'class="trap"' in html  # the honeypot
    assert 'name="viewport"' in html and "Join Demo Coffee" in html


def test_the_form_speaks_the_browsers_language_among_the_programmes(client: FlaskClient) -> None:
    russian = client.get("/join/demo", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert '<html lang="ru">' in russian.get_data(as_text=True)
    chinese = client.get("/join/demo?lang=zh").get_data(as_text=True)
    assert '<html lang="zh">' in chinese and "加入" in chinese


def test_with_confirmation_a_new_member_is_held_until_the_emailed_link_is_opened(
    client: FlaskClient, database: Database, settings: Settings, clock: FixedClock
) -> None:
    answer = sign_up(client, marketing="yes", phone="+44 7911 123456", birthday="1990-05-31")
    assert answer.status_code == 200 and "Check your email" in answer.get_data(as_text=True)
    with database.transaction() as session:
        ann = session.execute(select(Customer)).scalar_one()
        assert ann.confirmed_at is None and ann.joined_via == "join" and ann.joined_staff is None
        assert (ann.email, ann.phone, ann.name) == ("ann@example.com", "+447911123456", "Ann Lee")
        assert ann.birthday is not None and ann.birthday.isoformat() == "1990-05-31"
        assert ann.marketing_consent and ann.locale == "en"
        consents = session.execute(select(Consent.kind, Consent.text_version, Consent.source))
        assert sorted(tuple(c) for c in consents) == [
            ("marketing", "2026-03", "join"),
            ("terms", "2026-03", "join"),
        ]
    (email,) = send_emails(database, settings, clock)
    assert email["To"] == "ann@example.com" and "Confirm" in email["Subject"]
    assert "/c/" not in text_of(email)  # no card link before confirmation
    link = link_in(email)
    opened = client.get(link)
    assert opened.status_code == 303
    card_page = opened.headers["Location"]
    with database.transaction() as session:
        ann = session.execute(select(Customer)).scalar_one()
        card = session.execute(select(Card)).scalar_one()
        assert ann.confirmed_at == clock.now() and card_page == f"/c/{card.public_token}"
    again = client.get(link)
    assert again.status_code == 303 and again.headers["Location"] == card_page
    assert client.get(card_page).status_code == 200
    assert send_emails(database, settings, clock) == []


def test_without_confirmation_a_new_member_sees_their_card_at_once(
    client: FlaskClient, make_program: MakeProgram, database: Database
) -> None:
    make_program(join={**JOIN, "confirm_email": False})
    answer = sign_up(client)
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/c/")
    with database.transaction() as session:
        ann = session.execute(select(Customer)).scalar_one()
        assert ann.confirmed_at is not None
    assert client.get(answer.headers["Location"]).status_code == 200


def test_without_confirmation_a_known_member_is_sent_their_card_at_their_own_address(
    client: FlaskClient,
    make_program: MakeProgram,
    database: Database,
    settings: Settings,
    clock: FixedClock,
) -> None:
    make_program(join={**JOIN, "confirm_email": False, "required": ["email", "phone"]})
    sign_up(client, phone="+44 7911 123456")
    send_emails(database, settings, clock)  # the new card's email
    clock.advance(timedelta(minutes=20))  # (a known member's card is resent once per 15')
    # someone else types Ann's phone with their own email: Ann's card goes to Ann only
    answer = sign_up(client, email="mallory@example.com", phone="+447911123456", name="M")
    assert answer.status_code == 200
    assert "sent your card to your email" in answer.get_data(as_text=True)
    (email,) = send_emails(database, settings, clock)
    assert email["To"] == "ann@example.com" and "/c/" in text_of(email)
    assert "Welcome!" in text_of(email)
    assert rows(database)[:2] == (1, 1)


def test_a_known_member_is_emailed_at_most_once_per_quarter_hour(
    client: FlaskClient, database: Database, clock: FixedClock
) -> None:
    for _ in range(3):
        assert sign_up(client).status_code == 200
    assert rows(database)[3] == 1  # the new card's (confirmation) email only
    clock.advance(timedelta(minutes=16))
    sign_up(client)
    with database.transaction() as session:
        recipients = session.execute(select(OutboxEmail.recipient)).scalars().all()
    assert recipients == ["ann@example.com"] * 2


def test_the_shop_hears_of_a_held_card_only_once_it_is_confirmed(
    client: FlaskClient,
    make_program: MakeProgram,
    database: Database,
    settings: Settings,
    clock: FixedClock,
) -> None:
    from walletcards.outbound.models import OutboundEvent

    make_program(join=JOIN, events=[{"url": "https://crm.example.com/hook", "secret": "whsec_1"}])

    def issued() -> int:
        with database.transaction() as session:
            found = session.execute(
                select(OutboundEvent.id).where(OutboundEvent.type == "card.issued")
            )
            return len(found.all())

    sign_up(client)
    assert issued() == 0  # its payload carries the card's link: not before confirmation
    (email,) = send_emails(database, settings, clock)
    link = link_in(email)
    client.get(link)
    client.get(link)
    assert issued() == 1


def test_the_confirmation_email_speaks_the_language_chosen_on_the_form(
    client: FlaskClient, database: Database, settings: Settings, clock: FixedClock
) -> None:
    sign_up(client, query="?lang=ru", language="ru")
    (email,) = send_emails(database, settings, clock)
    assert email["Subject"] == "Подтвердите карту лояльности Demo Coffee"
    assert "Ссылка действует 7 дней." in text_of(email)
