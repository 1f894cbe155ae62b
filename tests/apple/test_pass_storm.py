"""The pass GET under a storm (issue 20): few queries per pass, none rendered for a current
copy, the face's ledger facts read in one query, and a per-process limit that answers 503
with Retry-After rather than queueing without bound."""

from __future__ import annotations

import threading
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from tests.kit.apple import PTID
from tests.kit.passes import auth, paid_order, release_holds, statements
from walletcards.apple.pass_lookup import BuildLimit
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.face_facts import face_facts
from walletcards.loyalty import ledger
from walletcards.loyalty.models import Card
from walletcards.loyalty.reservations import open_for_card
from walletcards.messages.delivery import latest_message, mark_fetched
from walletcards.messages.models import SENT, Message, MessageRecipient

LIMIT = "walletcards.passkit_build_limit"


def test_a_pass_is_served_with_one_query_for_the_card_and_one_for_its_face(
    app: Flask, client: FlaskClient, issued: tuple[str, str, str]
) -> None:
    _, serial, secret = issued
    with statements(app) as seen:
        answer = client.get(f"/passkit/v1/passes/{PTID}/{serial}", headers=auth(secret))
    assert answer.status_code == 200
    queries = [s for s in seen if "SAVEPOINT" not in s]  # (the test's own transaction)
    assert len(queries) == 3, queries
    assert "FROM cards" in queries[0]  # the card, its programme and customer
    assert "FROM lots" in queries[1] and "UPDATE" not in queries[1]  # the face's ledger facts
    # the proof last, once the pass is built (a GET that fails to render proves nothing)
    assert "UPDATE message_recipients" in queries[2]


def test_a_head_renders_the_pass_but_records_no_fetch(
    app: Flask, client: FlaskClient, issued: tuple[str, str, str]
) -> None:
    _, serial, secret = issued
    with statements(app) as seen:
        answer = client.head(f"/passkit/v1/passes/{PTID}/{serial}", headers=auth(secret))
    assert answer.status_code == 200 and int(answer.headers["Content-Length"]) > 0
    assert not any("UPDATE" in query for query in seen), seen


def test_a_current_copy_is_304_after_one_query_and_nothing_rendered(
    app: Flask, client: FlaskClient, issued: tuple[str, str, str]
) -> None:
    _, serial, secret = issued
    url = f"/passkit/v1/passes/{PTID}/{serial}"
    modified = client.get(url, headers=auth(secret)).headers["Last-Modified"]
    with statements(app) as seen:
        answer = client.get(url, headers={**auth(secret), "If-Modified-Since": modified})
    assert answer.status_code == 304 and answer.data == b""
    queries = [s for s in seen if "SAVEPOINT" not in s]  # (the test's own transaction)
    assert len(queries) == 1 and "FROM cards" in queries[0]


def test_a_pass_get_over_the_build_limit_is_503_with_retry_after(
    app: Flask, client: FlaskClient, issued: tuple[str, str, str]
) -> None:
    _, serial, secret = issued
    limit = BuildLimit(1, 0.05, 7)
    app.extensions[LIMIT] = limit
    url = f"/passkit/v1/passes/{PTID}/{serial}"
    with limit.slot() as held, statements(app) as seen:
        assert held
        busy = client.get(url, headers=auth(secret))
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "7"
    assert busy.json is not None and busy.json["error"]["code"] == "busy"
    assert seen == []  # turned away before any query
    assert client.get(url, headers=auth(secret)).status_code == 200  # the slot is free again


def test_a_pass_get_waits_for_a_slot_that_frees_within_the_bound(
    app: Flask, client: FlaskClient, issued: tuple[str, str, str]
) -> None:
    _, serial, secret = issued
    limit = BuildLimit(1, 10.0, 7)
    app.extensions[LIMIT] = limit
    with limit.slot() as held:
        assert held
        timer = threading.Timer(0.2, limit._slots.release)  # the other build finishes
        timer.start()
        answer = client.get(f"/passkit/v1/passes/{PTID}/{serial}", headers=auth(secret))
        timer.join()
        assert limit._slots.acquire(timeout=1)  # give back what the timer released for us
    assert answer.status_code == 200


def test_the_face_facts_query_agrees_with_the_ledger_reads_it_replaces(
    client: FlaskClient, clock: FixedClock, database: Database, issued: tuple[str, str, str]
) -> None:
    paid_order(client, clock, "A-2", "20.00")
    clock.advance(timedelta(days=20))
    release_holds(database, clock.now())
    with database.transaction() as session:
        card = session.execute(select(Card)).scalars().one()
        seen_expiring = False
        for days in (0, 10, 25, 170, 176, 200):
            now = clock.now() + timedelta(days=days)
            horizon = now + timedelta(days=10)
            facts = face_facts(session, card, now, horizon, "en", "en")
            assert facts.balance == ledger.settled_balance(session, card, now), days
            rows = ledger.expiring_before(session, card.program_id, horizon, now, card.id)
            assert facts.expiring == ((rows[0][1], rows[0][2]) if rows else None), days
            seen_expiring |= facts.expiring is not None
            assert facts.open_codes == bool(open_for_card(session, card))
            assert facts.message == latest_message(session, card.id, "en", "en", now)
            assert face_facts(session, card, now, None, "en", "en").expiring is None
        assert seen_expiring  # the welcome points' 30 days ran out within one horizon


def test_a_fetch_proof_written_for_the_storm_commits_without_waiting_for_the_disk(
    database: Database, clock: FixedClock, issued: tuple[str, str, str]
) -> None:
    now = clock.now()
    with database.transaction() as session:
        card = session.execute(select(Card)).scalars().one()
        sent = Message(
            program_id=card.program_id,
            kind="marketing",
            text={"en": "Hello"},
            link=None,
            audience={"all": True},
            channels=["wallet"],
            status=SENT,
            send_at=now,
            expires_at=None,
            started_at=now,
            created_at=now,
        )
        session.add(sent)
        session.flush()
        recipient = MessageRecipient(
            message_id=sent.id, card_id=card.id, status=SENT, card_version=card.version
        )
        session.add(recipient)
        session.flush()
        mark_fetched(session, card.id, card.version, now, durable=False)
        session.refresh(recipient)
        assert recipient.fetched_at == now
        if database.is_postgres:  # this transaction's commit will not wait for the WAL flush
            setting = session.execute(text("SHOW synchronous_commit")).scalar_one()
            assert setting == "off"
        mark_fetched(session, card.id, card.version, now + timedelta(hours=1), durable=False)
        session.refresh(recipient)
        assert recipient.fetched_at == now  # once
