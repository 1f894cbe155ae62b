"""Sending: the audience (all, a segment, tiers, listed members) selected in SQL, the rules
(consent, weekly cap, quiet hours, no wallet) applied per card, the cards it went to bumped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select, text

from tests.kit.programs import MakeCard, MakeProgram, reload_card
from tests.kit.web import json_of
from tests.messages.helpers import URL, member, message, post, recipients
from walletcards.cardface import card_face
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program
from walletcards.messages.models import Message, MessageRecipient
from walletcards.messages.sending import send_batch, send_due
from walletcards.sync.jobs import run_due

DAYTIME = timedelta(hours=3)  # T0 is 07:00 in New York: inside the default quiet hours


@pytest.fixture
def program(make_program: MakeProgram) -> Program:
    return make_program(segments=[{"code": "golden", "tiers": ["gold"]}])


def send(client: FlaskClient, manager: dict[str, str], **body: Any) -> int:
    created = post(client, {**message(), **body}, manager)
    assert created.status_code == 201, created.json
    return int(json_of(created)["message"]["id"])


@pytest.fixture
def cards(
    database: Database, make_card: MakeCard, program: Program, clock: FixedClock
) -> dict[str, Card]:
    return {
        "ann": member(database, make_card, program, clock, "ann", tier="gold"),
        "bob": member(database, make_card, program, clock, "bob", tier="silver"),
        "cid": member(database, make_card, program, clock, "cid", consent=False, tier="gold"),
        "dan": member(database, make_card, program, clock, "dan", device=False, tier="bronze"),
    }


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        ({"all": True}, {"ann", "bob", "cid"}),
        ({"segment": "golden"}, {"ann", "cid"}),
        ({"tiers": ["silver", "bronze"]}, {"bob"}),
        ({"members": "ann,dan"}, {"ann"}),
    ],
)
def test_a_service_message_goes_to_its_audience_with_a_wallet(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    cards: dict[str, Card],
    clock: FixedClock,
    audience: dict[str, Any],
    expected: set[str],
) -> None:
    if "members" in audience:
        audience = {"members": [cards[n].member_number for n in audience["members"].split(",")]}
    message_id = send(client, manager, audience=audience)
    run_due(database, clock.now())
    got = recipients(database, message_id)
    went = {name for name, card in cards.items() if got.get(card.id, ("",))[0] == "sent"}
    assert went == expected
    assert all(reason == "no_device" for status, reason in got.values() if status == "skipped")
    with database.transaction() as session:
        for name, card in cards.items():
            assert reload_card(session, card.id).version == card.version + (name in expected)
    shown = json_of(client.get(f"{URL}/{message_id}", headers=manager))
    assert shown["message"]["status"] == "sent" and shown["cards"] == len(expected)


def test_marketing_goes_only_to_consenting_members_within_the_weekly_cap(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    cards: dict[str, Card],
    clock: FixedClock,
) -> None:
    clock.advance(DAYTIME)
    ids = [send(client, manager, kind="marketing", text={"en": f"Offer {n}"}) for n in range(3)]
    run_due(database, clock.now())  # in order: the third is over the cap
    first, third = recipients(database, ids[0]), recipients(database, ids[2])
    assert first[cards["ann"].id] == ("sent", None)
    assert first[cards["cid"].id] == ("skipped", "no_consent")
    assert third[cards["ann"].id] == ("skipped", "cap")  # 2 a week by default
    shown = json_of(client.get(f"{URL}/{ids[2]}", headers=manager))
    assert shown["skipped"] == {"no_consent": 1, "cap": 2, "no_device": 1}
    clock.advance(timedelta(days=7))
    later = send(client, manager, kind="marketing")
    run_due(database, clock.now())
    assert recipients(database, later)[cards["ann"].id] == ("sent", None)
    service = send(client, manager)  # service messages ignore the cap and consent
    run_due(database, clock.now())
    assert recipients(database, service)[cards["cid"].id] == ("sent", None)


def test_marketing_waits_for_the_quiet_hours_to_end(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    cards: dict[str, Card],
    clock: FixedClock,
) -> None:
    marketing = send(client, manager, kind="marketing")
    service = send(client, manager)
    run_due(database, clock.now())  # 07:00 in New York
    assert recipients(database, marketing) == {} and len(recipients(database, service)) == 4
    clock.advance(timedelta(hours=2))  # 09:00: the window opens
    run_due(database, clock.now())
    assert recipients(database, marketing)[cards["ann"].id] == ("sent", None)


def test_a_large_audience_goes_in_batches_and_resumes(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    cards: dict[str, Card],
    clock: FixedClock,
) -> None:
    message_id = send(client, manager)
    assert send_due(database, clock.now(), batch=3) == 4
    got = recipients(database, message_id)
    assert len(got) == 4 and sum(status == "sent" for status, _ in got.values()) == 3
    assert send_due(database, clock.now(), batch=3) == 0  # sent: nothing more


def test_an_unconfigured_programme_can_turn_the_rules_off(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    make_program: MakeProgram,
    make_card: MakeCard,
    clock: FixedClock,
) -> None:
    program = make_program(
        messages={"require_consent": False, "max_marketing_per_week": 0, "quiet_hours": []}
    )
    card = member(database, make_card, program, clock, "eve", consent=False)
    message_id = send(client, manager, kind="marketing")
    run_due(database, clock.now())
    assert recipients(database, message_id) == {card.id: ("skipped", "cap")}


def test_the_card_shows_only_the_latest_message_and_nothing_once_it_expired(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    program: Program,
    cards: dict[str, Card],
    clock: FixedClock,
) -> None:
    def shown() -> tuple[str | None, str | None]:
        with database.transaction() as session:
            face = card_face(
                session, program, reload_card(session, cards["ann"].id), clock.now(), "k"
            )
        return face.message, face.message_link

    send(client, manager, text={"en": "Old news"}, link="https://shop.example/old")
    run_due(database, clock.now())
    assert shown() == ("Old news", "https://shop.example/old")
    clock.advance(timedelta(minutes=1))
    until = (clock.now() + timedelta(hours=1)).isoformat()
    send(client, manager, text={"en": "Today only", "ru": "Только сегодня"}, expires_at=until)
    run_due(database, clock.now())
    assert shown() == ("Today only", None)
    clock.advance(timedelta(hours=1))
    assert shown() == (None, None)  # the older message does not come back


def test_a_batch_applies_the_rules_once_per_card_within_its_id_range(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    cards: dict[str, Card],
    clock: FixedClock,
) -> None:
    # each rule's correlated subquery appears once (PostgreSQL does not share repeated ones:
    # three copies tripled the batch's cost), and the cards are bounded by the batch's id
    # range (not read whole per batch); bench/broadcast.py measures it
    clock.advance(DAYTIME)
    message_id = send(client, manager, kind="marketing")
    inserts: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "INSERT INTO message_recipients" in statement:
            inserts.append(statement)

    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        assert send_due(database, clock.now(), batch=3) == 4
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    assert len(inserts) == 2
    for statement in inserts:
        assert statement.count("FROM apple_registrations") == 1
        assert statement.count("FROM google_objects") == 1
        assert statement.count("JOIN messages") == 1
        assert statement.count("cards.id <=") == 1, statement
    assert recipients(database, message_id)[cards["cid"].id] == ("skipped", "no_consent")


def versions(database: Database, cards: dict[str, Card]) -> dict[str, int]:
    with database.transaction() as session:
        return {name: reload_card(session, card.id).version for name, card in cards.items()}


def test_batches_follow_the_audience_across_id_gaps_and_stop_on_an_empty_one(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    cards: dict[str, Card],
    clock: FixedClock,
) -> None:
    before = versions(database, cards)
    message_id = send(client, manager, audience={"tiers": ["gold", "bronze"]})  # not bob
    assert send_due(database, clock.now(), batch=2) == 3  # ann + cid, then dan
    got = recipients(database, message_id)
    assert got == {
        cards["ann"].id: ("sent", None),
        cards["cid"].id: ("sent", None),
        cards["dan"].id: ("skipped", "no_device"),
    }
    after = versions(database, cards)
    assert {name: after[name] - before[name] for name in cards} == {
        "ann": 1,
        "bob": 0,
        "cid": 1,
        "dan": 0,
    }
    with database.transaction() as session:
        sent = session.get(Message, message_id)
        assert sent is not None and sent.status == "sent"
        assert sent.last_card_id == cards["dan"].id
        carried = session.execute(
            select(MessageRecipient.card_id, MessageRecipient.card_version).where(
                MessageRecipient.message_id == message_id
            )
        ).all()
    assert {card_id: version for card_id, version in carried} == {
        cards["ann"].id: after["ann"],
        cards["cid"].id: after["cid"],
        cards["dan"].id: None,
    }
    # an audience that fills its last batch exactly: one more, empty, batch ends the sending
    exact = send(client, manager, audience={"tiers": ["gold", "bronze"]})
    assert send_due(database, clock.now(), batch=3) == 3
    with database.transaction() as session:
        done = session.get(Message, exact)
        assert done is not None and done.status == "sent"
        assert done.last_card_id == cards["dan"].id


def test_a_skipped_recipient_keeps_its_card_version(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    cards: dict[str, Card],
    clock: FixedClock,
) -> None:
    clock.advance(DAYTIME)
    before = versions(database, cards)
    ids = [send(client, manager, kind="marketing", text={"en": f"Offer {n}"}) for n in range(3)]
    run_due(database, clock.now())  # the third is over the weekly cap for ann and bob
    assert recipients(database, ids[2])[cards["bob"].id] == ("skipped", "cap")
    after = versions(database, cards)
    # two sent each to ann and bob; cid (no consent) and dan (no wallet) never bumped
    assert {name: after[name] - before[name] for name in cards} == {
        "ann": 2,
        "bob": 2,
        "cid": 0,
        "dan": 0,
    }


@pytest.mark.parametrize(
    ("channels", "setting"), [(["wallet"], "off"), (["wallet", "email"], "on")]
)
def test_a_wallet_only_batch_commits_without_waiting_for_the_disk(
    client: FlaskClient,
    manager: dict[str, str],
    database: Database,
    cards: dict[str, Card],
    clock: FixedClock,
    channels: list[str],
    setting: str,
) -> None:
    # PostgreSQL: a lost batch is sent again whole, but a lost email batch may already be out
    message_id = send(client, manager, channels=channels)
    with database.transaction() as session:
        assert send_batch(session, message_id, clock.now(), 10) == (4, False)
        if database.engine.dialect.name == "postgresql":
            assert session.scalar(text("SHOW synchronous_commit")) == setting
    assert len(recipients(database, message_id)) == 4
