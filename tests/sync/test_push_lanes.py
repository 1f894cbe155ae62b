"""A member's change is pushed while a bulk batch's pushes are still in flight: the running
worker claims the freshly changed cards on its wake-up and pushes them beside the batch, over
APNs connections of its own; the lease keeps every card in one lane only."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bench.data import cards_with_devices
from tests.fakes.apns import FakeApns
from walletcards.clients import Clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.cards import card_changed
from walletcards.loyalty.ledger import lock_card
from walletcards.loyalty.models import Card, Program
from walletcards.settings import Settings
from walletcards.sync.worker import Worker

BACKLOG = 200
SLOW = 3.0  # seconds APNs holds each backlog push's answer


def wait_for(condition: Callable[[], object], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.mark.committing  # the worker's thread must see the test's commits
def test_a_fresh_change_is_pushed_while_a_backlog_batch_is_in_flight(
    database: Database,
    program: Program,
    clients: Clients,
    settings: Settings,
    apns: FakeApns,
    clock: FixedClock,
) -> None:
    earlier = clock.now() - timedelta(hours=1)
    with database.transaction() as session:
        backlog = cards_with_devices(session, program.id, BACKLOG, earlier)  # a bulk change
        member = cards_with_devices(session, program.id, 1, earlier, BACKLOG)
        session.execute(update(Card).where(Card.id.in_(member)).values(pushed_version=2))
    [(member_id, member_token)] = member.items()
    apns.slow = dict.fromkeys(backlog.values(), SLOW)
    worker = Worker(database, clients, settings, batch=1000)  # the whole backlog in one batch
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"poll": 0.05})
    thread.start()
    try:
        wait_for(lambda: apns.peak_streams >= BACKLOG)  # the batch is in flight
        with database.transaction() as session:
            card_changed(session, lock_card(session, member_id), clock.now())  # a purchase
        changed = time.monotonic()
        wait_for(lambda: apns.pushes_to(member_token))
        wait_for(lambda: len(apns.requests) == BACKLOG + 1)
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive()

    [fresh] = apns.pushes_to(member_token)
    assert fresh.at - changed < SLOW / 2  # did not wait for the batch's answers
    assert fresh.at < min(r.at for r in apns.requests if r.token != member_token)
    assert sorted(r.token for r in apns.requests) == sorted([*backlog.values(), member_token])
    with database.transaction() as session:
        behind = select(func.count()).where(Card.version > Card.pushed_version)
        assert session.execute(behind).scalar_one() == 0  # each card recorded, once
