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


def hidden(html: str, name: str) -> str:
    return html.split(f'name="{name}" value="')[1].split('"')[0]


def csrf_of(client: FlaskClient) -> str:
    page = client.get("/admin/messages/")
    assert page.status_code == 200
    return hidden(page.text, "csrf_token")


def fresh_form(client: FlaskClient) -> dict[str, str]:
    """A newly rendered form's hidden fields: its CSRF token and its one-time key."""
    page = client.get("/admin/messages/")
    assert page.status_code == 200
    return {name: hidden(page.text, name) for name in ("csrf_token", "form_key")}


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
        **fresh_form(client),
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
    refused = client.post("/admin/messages/", data={**typed, **fresh_form(client)})
    assert refused.status_code == 422
    assert 'role="alert">text:' in refused.text
    assert 'value="https://demo.example/typed"' in refused.text
    late = {**form, "send_at": "2099-01-01T10:00", **fresh_form(client)}
    assert client.post("/admin/messages/", data=late).status_code == 422  # over a year ahead
    assert json_of(client.get(URL, headers=manager))["messages"] == []


def test_a_scheduled_message_can_be_cancelled_from_its_page(
    client: FlaskClient, clock: FixedClock, manager: dict[str, str]
) -> None:
    login(client, "boss@example.com")
    when = (clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    form = {"text_en": "Soon", "kind": "service", "audience": "all", "send_at": when}
    created = client.post("/admin/messages/", data={**form, **fresh_form(client)})
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


def test_a_form_sent_twice_makes_one_message(client: FlaskClient, manager: dict[str, str]) -> None:
    login(client, "boss@example.com")
    form = {"text_en": "Only once", "kind": "service", "audience": "all", **fresh_form(client)}
    first = client.post("/admin/messages/", data=form)
    again = client.post("/admin/messages/", data=form)  # a double click, or the POST resent
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert len(json_of(client.get(URL, headers=manager))["messages"]) == 1
    edited = client.post("/admin/messages/", data={**form, "text_en": "Another text"})
    assert edited.status_code == 409  # the same page sent again with other words
    assert "already sent" in edited.text
    assert ">Another text</textarea>" in edited.text  # what was typed is kept in the form
    second = client.post("/admin/messages/", data={**form, **fresh_form(client)})
    assert second.status_code == 303 and second.headers["Location"] != first.headers["Location"]
    assert len(json_of(client.get(URL, headers=manager))["messages"]) == 2


def test_the_form_needs_its_one_time_key(client: FlaskClient, manager: dict[str, str]) -> None:
    login(client, "boss@example.com")
    form = {"text_en": "Hi", "kind": "service", "audience": "all", "csrf_token": csrf_of(client)}
    for key in (None, "", "short", "x" * 65, "bad key with spaces!"):
        sent = client.post(
            "/admin/messages/", data=form if key is None else {**form, "form_key": key}
        )
        assert sent.status_code == 400 and "This form has expired" in sent.text
        assert ">Hi</textarea>" in sent.text  # what was typed comes back with a fresh key
        assert 'name="form_key" value="' in sent.text
    nul = client.post("/admin/messages/", data={**form, "form_key": "k\x00" * 8})
    assert nul.status_code == 422  # control characters never reach the view (admin/inputs.py)
    assert json_of(client.get(URL, headers=manager))["messages"] == []
