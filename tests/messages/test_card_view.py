"""The owner's card view shows the proof of delivery of the card's latest message: its devices,
when the push was accepted, when the phone fetched it and the gap, worded in the owner's
language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from tests.kit.programs import MakeCard
from tests.kit.web import json_of
from tests.messages.helpers import member, message, post
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program
from walletcards.messages.delivery import mark_fetched, mark_pushed
from walletcards.sync.jobs import run_due

CARDS = "/api/v1/programs/demo/cards"


def delivery(
    client: FlaskClient, manager: dict[str, str], card: Card, lang: str = "en"
) -> dict[str, Any]:
    headers = {**manager, "Accept-Language": lang}
    answer = client.get(f"{CARDS}/{card.member_number}", headers=headers)
    assert answer.status_code == 200
    return dict(json_of(answer)["delivery"])


def test_the_card_view_shows_when_the_phone_fetched_the_message_after_the_push(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    make_card: MakeCard,
    program: Program,
    clock: FixedClock,
) -> None:
    ann = member(database, make_card, program, clock, "ann")
    before = delivery(client, manager, ann)
    assert before["summary"] == "no message sent to this card yet"
    assert len(before["devices"]) == 1 and before["devices"][0]["platform"] == "apple"
    assert post(client, message(), manager).status_code == 201
    run_due(database, clock.now())
    assert delivery(client, manager, ann)["summary"] == "last update not pushed yet"
    with database.transaction() as session:
        card = session.get(Card, ann.id)
        assert card is not None
        version = card.version
        mark_pushed(session, [{"b_card": ann.id, "b_version": version}], clock.now())
    clock.advance(timedelta(minutes=3))
    pushed = delivery(client, manager, ann)
    assert pushed["summary"] == "last update pushed 3 minutes ago, not fetched by the phone yet"
    assert pushed["last_message"]["fetched_at"] is None
    clock.advance(timedelta(minutes=1))
    with database.transaction() as session:
        mark_fetched(session, ann.id, version, clock.now())
    fetched = delivery(client, manager, ann)
    assert fetched["last_message"]["fetched_after_seconds"] == 240
    assert fetched["summary"] == "last update fetched by the phone 4 minutes after the push"
    russian = delivery(client, manager, ann, "ru")["summary"]
    assert russian == "последнее обновление загружено телефоном через 4 минуты после push"
