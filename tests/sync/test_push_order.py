"""A member's own change is not queued behind a bulk change: each batch takes the most recently
changed cards first (a tenth of it), then the rest by id."""

from __future__ import annotations

from datetime import timedelta

from bench.data import cards_with_devices
from tests.fakes.apns import FakeApns
from walletcards.clients import Clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.cards import card_changed
from walletcards.loyalty.models import Card, Program
from walletcards.settings import Settings
from walletcards.sync.worker import Worker


def test_a_fresh_change_is_pushed_in_the_next_batch_ahead_of_an_older_backlog(
    database: Database,
    program: Program,
    clients: Clients,
    settings: Settings,
    apns: FakeApns,
    clock: FixedClock,
) -> None:
    with database.transaction() as session:
        backlog = cards_with_devices(session, program.id, 50, clock.now())  # a bulk change
    clock.advance(timedelta(seconds=5))
    last = max(backlog)
    with database.transaction() as session:
        card = session.get(Card, last)
        assert card is not None
        card_changed(session, card, clock.now())  # then one member's purchase

    worker = Worker(database, clients, settings, batch=10)
    assert worker.step().pushed == 10

    pushed = [r.token for r in apns.requests]
    assert backlog[last] in pushed  # not after the 49 older ones
    assert sorted(pushed) == sorted([backlog[last], *[backlog[c] for c in sorted(backlog)[:9]]])
    assert worker.drain().pushed == 40 and len(apns.requests) == 50  # each card once
