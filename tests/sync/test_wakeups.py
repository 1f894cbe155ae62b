"""Who wakes the sync workers: a transaction that changed a card (``cards.card_changed``) or
issued one, once it commits; never a rollback, never a transaction that changed no card."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tests.kit.programs import MakeCard, reload_card
from walletcards.clock import FixedClock
from walletcards.db import CARDS_CHANNEL, Database, local_wakeup
from walletcards.loyalty.cards import card_changed
from walletcards.loyalty.ledger import lock_card
from walletcards.loyalty.models import Card, Program


def change(database: Database, card_id: int, clock: FixedClock, *, fail: bool = False) -> None:
    with database.transaction() as session:
        card_changed(session, lock_card(session, card_id), clock.now())
        assert not local_wakeup.is_set()  # not before the commit
        if fail:
            raise RuntimeError("roll back")


def test_a_changed_card_wakes_the_workers_when_its_transaction_commits(
    database: Database, program: Program, make_card: MakeCard, clock: FixedClock
) -> None:
    local_wakeup.clear()
    card = make_card(program, email="ann@example.com")
    assert local_wakeup.is_set()  # a new card needs its first push
    local_wakeup.clear()
    with pytest.raises(RuntimeError):
        change(database, card.id, clock, fail=True)
    with database.transaction() as session:
        session.execute(select(Card.id)).all()  # changes no card
    assert not local_wakeup.is_set()
    change(database, card.id, clock)
    assert local_wakeup.is_set()
    with database.transaction() as session:
        assert reload_card(session, card.id).version == card.version + 1


@pytest.mark.postgres
def test_on_postgresql_the_workers_hear_notify_at_commit(
    database: Database, program: Program, make_card: MakeCard, clock: FixedClock
) -> None:
    card = make_card(program, email="ann@example.com")
    local_wakeup.clear()
    url = make_url(database.url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f"LISTEN {CARDS_CHANNEL}")
        with pytest.raises(RuntimeError):
            change(database, card.id, clock, fail=True)
        assert list(conn.notifies(timeout=0.5, stop_after=1)) == []
        change(database, card.id, clock)
        heard = list(conn.notifies(timeout=5, stop_after=1))
    assert [notice.channel for notice in heard] == [CARDS_CHANNEL]
