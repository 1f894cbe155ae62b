"""What the ledger's Hypothesis state machines share (tests/loyalty/test_*_state_machine.py):
a fresh card per run, writes that may be refused, paying and reversing orders, expiry, the
checks every step ends with, and how they are run.

Each test defines its machine inside the test function, subclassing ``CardMachine`` with its
own rules (their strategies are the test's), and runs it with ``run_machine``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test
from sqlalchemy.orm import Session

from tests.kit.programs import MakeCard, reload_card
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import awards, ledger
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.rules import OrderFacts, OrderLine
from walletcards.loyalty.verify import verify


@dataclass
class World:
    """The test's fixtures, shared by every run of its machine (each run makes its own card)."""

    database: Database
    program: Program
    make_card: MakeCard
    clock: FixedClock
    serial: Iterator[int] = field(default_factory=count)


class CardMachine(RuleBasedStateMachine):
    """One card per run, the orders it paid and a source of unique keys; no rules of its own."""

    def __init__(self, world: World, email_prefix: str) -> None:
        super().__init__()
        self.world = world
        self.card = world.make_card(
            world.program, email=f"{email_prefix}{next(world.serial)}@example.com"
        )
        self.orders: list[str] = []
        self.keys = count()

    def write(self, fn: Callable[[Session], Any]) -> None:
        """``fn`` in a transaction of its own; a refusal (LedgerError) must change nothing,
        which the invariants check."""
        try:
            with self.world.database.transaction() as session:
                fn(session)
        except ledger.LedgerError:
            pass

    def pay_order(self, amount: int) -> None:
        """A new paid order of ``amount`` cents (one line) for the card."""
        world, card_id = self.world, self.card.id
        order_id = f"{card_id}-{len(self.orders)}"
        self.orders.append(order_id)
        facts = OrderFacts("orders", order_id, "USD", world.clock.now(), (OrderLine(amount),))
        self.write(
            lambda s: awards.award_paid_order(s, world.program, card_id, facts, world.clock.now())
        )

    def reverse_order(self, pick: int, amount: int, cancel: bool) -> None:
        """Refund ``amount`` cents of (or cancel) one of the card's orders, if it has any."""
        if not self.orders:
            return
        world = self.world
        order_id = self.orders[pick % len(self.orders)]
        key = f"{order_id}:refund:{next(self.keys)}"
        self.write(
            lambda s: awards.reverse_order(
                s,
                world.program,
                source="orders",
                external_id=order_id,
                key=key,
                refunded_minor=amount,
                refunded_eligible_minor=amount,
                cancel=cancel,
                now=world.clock.now(),
            )
        )

    def settle_time(self) -> None:
        """Holds released and points expired as of the clock."""
        world, card_id = self.world, self.card.id
        self.write(lambda s: ledger.settle_time(s, ledger.lock_card(s, card_id), world.clock.now()))

    def checked_card(self, session: Session) -> Card:
        """The card as stored, once ``ledger verify`` is clean and no balance is negative."""
        card = reload_card(session, self.card.id)
        assert verify(session, self.world.program.slug) == []
        assert min(card.available, card.pending, card.debt) >= 0
        return card


def run_machine(machine: type[CardMachine], max_examples: int) -> None:
    """Runs of 25 steps, without deadline (each step is a few transactions)."""
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
