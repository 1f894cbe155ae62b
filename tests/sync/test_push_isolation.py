"""One bad device, token or answer affects only itself: the rest of its batch is pushed and
recorded as usual (the real APNs client over the loopback APNs)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bench.data import cards_with_devices
from tests.fakes.apns import FakeApns
from tests.kit.apple import PTID
from walletcards.apple.apns import ApnsClient, Outcome
from walletcards.apple.models import AppleRegistration
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program
from walletcards.settings import Settings
from walletcards.sync.cards import apns_auth
from walletcards.sync.worker import Worker

# stored before registrations were checked: 256 characters, control characters among them
UNSENDABLE = "".join(chr(c) for c in range(1, 257))


def devices(database: Database, program: Program, count: int, now_of: FixedClock) -> list[str]:
    with database.transaction() as session:
        return list(cards_with_devices(session, program.id, count, now_of.now()).values())


def card_states(database: Database) -> dict[str, tuple[bool, int]]:
    """push token -> (pushed, push attempts), for cards that still have a device."""
    with database.transaction() as session:
        rows = session.execute(
            select(
                AppleRegistration.push_token,
                Card.version == Card.pushed_version,
                Card.push_attempts,
            ).join(Card, Card.id == AppleRegistration.card_id)
        ).all()
    return {token: (bool(pushed), attempts) for token, pushed, attempts in rows}


def test_a_bad_push_token_among_500_good_ones_holds_back_no_other_card(
    database: Database,
    program: Program,
    apns: FakeApns,
    worker: Worker,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tokens = devices(database, program, 500, clock)
    with database.transaction() as session:
        session.execute(
            update(AppleRegistration)
            .where(AppleRegistration.push_token == tokens[250])
            .values(push_token=UNSENDABLE)
        )
    good = tokens[:250] + tokens[251:]
    caplog.set_level(logging.INFO)

    report = worker.drain()

    assert (report.cards, report.pushed, report.dead, report.retry) == (500, 499, 1, 0)
    assert sorted(r.token for r in apns.requests) == sorted(good)
    assert card_states(database) == dict.fromkeys(good, (True, 0))  # the bad device dropped
    with database.transaction() as session:
        behind = session.execute(
            select(Card.id).where(
                (Card.pushed_version < Card.version) | Card.push_lease_until.is_not(None)
            )
        ).all()
    assert behind == []  # no card parked, not even the bad device's own
    assert UNSENDABLE[:8] not in caplog.text and "registration" in caplog.text


def test_an_odd_answer_for_one_device_retries_only_its_card_and_soon(
    database: Database, program: Program, apns: FakeApns, worker: Worker, clock: FixedClock
) -> None:
    tokens = devices(database, program, 3, clock)
    apns.script[tokens[1]] = ["junk"]  # a 500 whose body is a JSON list

    report = worker.drain()

    assert (report.pushed, report.retry) == (3 - 1, 1)
    assert card_states(database) == {
        tokens[0]: (True, 0),
        tokens[1]: (False, 1),
        tokens[2]: (True, 0),
    }
    clock.advance(timedelta(minutes=10))  # a backoff, not an hour's parking
    assert worker.drain().pushed == 1
    assert card_states(database)[tokens[1]] == (True, 0)


def test_the_client_answers_for_an_unsendable_token_without_failing_the_others(
    program: Program, settings: Settings, apns: FakeApns
) -> None:
    """Even handed straight to one device's push (no check before it), a token that no URL
    can carry is that device's DEAD outcome, not an exception for the whole gather."""

    async def both() -> list[Outcome]:
        client = ApnsClient(settings.apns_url, apns_auth(program), settings.apns_ca_file)
        try:
            return list(
                await asyncio.gather(client.push(UNSENDABLE, PTID), client.push("ab" * 32, PTID))
            )
        finally:
            await client.aclose()

    assert asyncio.run(both()) == [Outcome.DEAD, Outcome.DELIVERED]
    assert [r.token for r in apns.requests] == ["ab" * 32]


def test_push_tokens_are_logged_by_their_first_characters_only(
    database: Database,
    program: Program,
    apns: FakeApns,
    worker: Worker,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """At INFO, the worker's level."""
    tokens = devices(database, program, 3, clock)
    apns.script[tokens[0]] = [429, "drop"]
    apns.script[tokens[1]] = [410]
    caplog.set_level(logging.INFO)

    worker.drain()  # 429, 410 (the registration removed), 200
    clock.advance(timedelta(minutes=10))
    worker.drain()  # the connection dropped

    assert f"removed (push token {tokens[1][:8]}…)" in caplog.text
    assert f"APNs connection problem for {tokens[0][:8]}…" in caplog.text
    assert not any(token in caplog.text for token in tokens)
