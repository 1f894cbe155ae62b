"""The dashboard's messages: the form posts through the messages service (CSRF as the other
dashboard forms), a refusal keeps what was typed, a message shows its figures and chart."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient

from tests.admin.test_metrics import login
from tests.kit.programs import MakeCard
from tests.kit.web import json_of
from tests.messages.helpers import URL, member
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program
from walletcards.messages.delivery import mark_fetched, mark_pushed
from walletcards.sync.jobs import run_due


def csrf_of(client: FlaskClient) -> str:
    page = client.get("/admin/messages/")
    assert page.status_code == 200
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


def figure(html: str, label: str) -> str:
    found = re.search(rf"<th>{label}</th><td>([^<]*)</td>", html)
    assert found is not None, label
    return found.group(1)


def test_signed_out_the_messages_page_sends_to_the_sign_in(client: FlaskClient) -> None:
    answer = client.get("/admin/messages/")
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin/"


def test_a_message_typed_in_the_dashboard_is_sent_and_shows_its_delivery(
    client: FlaskClient,
    database: Database,
    clock: FixedClock,
    make_card: MakeCard,
    program: Program,
    manager: dict[str, str],
) -> None:
    ann = member(database, make_card, program, clock, "ann", tier="gold")
    member(database, make_card, program, clock, "bob", tier="silver")
    login(client, "boss@example.com")
    assert 'href="/admin/messages/"' in client.get("/admin/").text  # the dashboard's link
    form = {
        "csrf_token": csrf_of(client),
        "text_en": "Double points on Friday",
        "link": "https://demo.example/friday",
        "kind": "service",
        "audience": "tiers",
        "tiers": ["gold"],
    }
    created = client.post("/admin/messages/", data=form)
    assert created.status_code == 303
    message_id = created.headers["Location"].rsplit("/", 1)[1]
    shown = json_of(client.get(f"{URL}/{message_id}", headers=manager))
    assert shown["message"]["audience"] == {"tiers": ["gold"]}
    assert shown["message"]["text"] == {"en": "Double points on Friday"}
    assert shown["message"]["audience_size"] == 1
    run_due(database, clock.now())
    with database.transaction() as session:
        card = session.get(Card, ann.id)
        assert card is not None
        clock.advance(timedelta(minutes=1))
        mark_pushed(session, [{"b_card": card.id, "b_version": card.version}], clock.now())
        clock.advance(timedelta(minutes=2))
        mark_fetched(session, card.id, card.version, clock.now())
    page = client.get(f"/admin/messages/{message_id}")
    assert page.status_code == 200
    html = page.text
    assert "Double points on Friday" in html
    assert figure(html, "cards") == "1" and figure(html, "pushed") == "1"
    assert figure(html, "fetched by the phone") == "1"
    assert figure(html, "skipped: no device") == "0"
    assert html.count("<polyline") == 3  # pushed, fetched, emailed over time
    listing = client.get("/admin/messages/").text
    assert f'href="/admin/messages/{message_id}"' in listing


def test_the_form_needs_its_csrf_token_and_a_refusal_keeps_what_was_typed(
    client: FlaskClient, manager: dict[str, str]
) -> None:
    login(client, "boss@example.com")
    form = {"text_en": "Hello", "kind": "service", "audience": "all"}
    forged = client.post("/admin/messages/", data={**form, "csrf_token": "forged"})
    assert forged.status_code == 403 and json_of(forged)["error"]["code"] == "csrf"
    typed = {**form, "text_en": "", "link": "https://demo.example/typed"}
    refused = client.post("/admin/messages/", data={**typed, "csrf_token": csrf_of(client)})
    assert refused.status_code == 422
    assert 'role="alert">text:' in refused.text
    assert 'value="https://demo.example/typed"' in refused.text
    late = {**form, "send_at": "2099-01-01T10:00", "csrf_token": csrf_of(client)}
    assert client.post("/admin/messages/", data=late).status_code == 422  # over a year ahead
    assert json_of(client.get(URL, headers=manager))["messages"] == []


def test_a_scheduled_message_can_be_cancelled_from_its_page(
    client: FlaskClient, clock: FixedClock, manager: dict[str, str]
) -> None:
    login(client, "boss@example.com")
    when = (clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    form = {"text_en": "Soon", "kind": "service", "audience": "all", "send_at": when}
    created = client.post("/admin/messages/", data={**form, "csrf_token": csrf_of(client)})
    message_id = created.headers["Location"].rsplit("/", 1)[1]
    assert json_of(client.get(f"{URL}/{message_id}", headers=manager))["message"]["status"] == (
        "scheduled"
    )
    cancel = client.post(
        f"/admin/messages/{message_id}/cancel", data={"csrf_token": csrf_of(client)}
    )
    assert cancel.status_code == 303
    shown = json_of(client.get(f"{URL}/{message_id}", headers=manager))
    assert shown["message"]["status"] == "cancelled"
