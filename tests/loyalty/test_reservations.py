"""Reservations: reserve -> capture | release on the ledger, and `ledger verify` over them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, select

from tests.kit.programs import MakeProgram, demo_document, reload_card
from tests.loyalty.test_ledger import DAY, give, spend, take_back
from walletcards.clock import FixedClock
from walletcards.db import Database, Model
from walletcards.loyalty import ledger, reservations
from walletcards.loyalty.config import ProgramConfigError, parse_program
from walletcards.loyalty.config_redemption import RedemptionRules
from walletcards.loyalty.models import Card, LedgerEntry, Lot, Program
from walletcards.loyalty.redemption_models import Redemption
from walletcards.loyalty.verify import verify


def hold(
    database: Database,
    program: Program,
    card: Card,
    clock: FixedClock,
    points: int,
    key: str,
    channel: str = "api",
) -> Redemption:
    with database.transaction() as session:
        return reservations.reserve(
            session,
            program,
            reload_card(session, card.id),
            points,
            channel=channel,
            reference="cart-1",
            actor="staff:1",
            key=key,
            now=clock.now(),
        )


def capture(database: Database, redemption_id: int, clock: FixedClock) -> Redemption:
    with database.transaction() as session:
        found = session.get(Redemption, redemption_id)
        assert found is not None
        return reservations.capture(
            session, found, order_ref="order-9", actor="staff:1", now=clock.now()
        )


def release(
    database: Database, redemption_id: int, clock: FixedClock, cause: str = "api"
) -> Redemption:
    with database.transaction() as session:
        found = session.get(Redemption, redemption_id)
        assert found is not None
        return reservations.release(session, found, cause=cause, actor="staff:1", now=clock.now())


def balance(database: Database, card: Card) -> tuple[int, int]:
    with database.transaction() as session:
        fresh = reload_card(session, card.id)
        return fresh.available, fresh.pending


def clean(database: Database) -> None:
    with database.transaction() as session:
        assert verify(session) == []


def test_reserve_takes_points_capture_spends_them(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 500, "g")
    made = hold(database, program, card, clock, 300, "k1")
    assert made.status == "reserved"
    assert made.value_minor == 300  # point_value 0.01 USD
    assert made.code is not None and made.code.startswith("DEMO-")
    assert len(made.code) == len("DEMO-") + 10
    assert made.expires_at == clock.now() + 7 * DAY
    assert balance(database, card) == (200, 0)
    clean(database)
    done = capture(database, made.id, clock)
    assert (done.status, done.order_ref, done.captured_at) == ("captured", "order-9", clock.now())
    assert capture(database, made.id, clock).capture_entry_id == done.capture_entry_id
    assert balance(database, card) == (200, 0)
    with database.transaction() as session:
        kinds = session.execute(
            select(LedgerEntry.kind, LedgerEntry.actor, LedgerEntry.cause)
            .where(LedgerEntry.card_id == card.id)
            .order_by(LedgerEntry.id)
        ).all()
    assert [k for k, _, _ in kinds] == ["bonus", "reserve", "redemption"]
    assert kinds[1][1:] == ("staff:1", "reservation:api:cart-1")
    assert kinds[2][1:] == ("staff:1", "capture:order-9")
    clean(database)
    with pytest.raises(reservations.RedemptionClosed):
        release(database, made.id, clock)


def test_reserve_is_idempotent_on_its_key(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 500, "g")
    first = hold(database, program, card, clock, 300, "k1")
    again = hold(database, program, card, clock, 300, "k1")
    assert (again.id, again.code) == (first.id, first.code)
    assert balance(database, card) == (200, 0)
    with pytest.raises(ledger.IdempotencyConflict):
        hold(database, program, card, clock, 200, "k1")


def test_reserved_points_cannot_be_spent_twice(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 500, "g")
    hold(database, program, card, clock, 400, "k1")
    with pytest.raises(ledger.InsufficientPoints):
        hold(database, program, card, clock, 200, "k2")
    with pytest.raises(ledger.InsufficientPoints):
        spend(database, card, clock, 101, "till")
    assert balance(database, card) == (100, 0)
    clean(database)


def test_rules_bound_the_points(
    database: Database, make_program: MakeProgram, card: Card, clock: FixedClock
) -> None:
    document = demo_document()
    stepped = make_program(
        redemption={**document["redemption"], "steps": [200, 400], "max_points": 400}
    )
    give(database, card, clock, 5000, "g")
    for points in (99, 300, 5001):
        with pytest.raises(ledger.LimitExceeded):
            hold(database, stepped, card, clock, points, f"k{points}")
    assert hold(database, stepped, card, clock, 400, "k").points == 400
    unvalued = make_program(redemption={"allow_lookup": False})
    with pytest.raises(reservations.RedemptionUnavailable):
        hold(database, unvalued, card, clock, 200, "k-none")


def test_release_gives_the_same_lots_back_expiring_no_later(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 100, "soon", expires=10)
    give(database, card, clock, 100, "late", expires=90)
    give(database, card, clock, 100, "never")
    made = hold(database, program, card, clock, 150, "k1")  # 100 soon + 50 late
    assert balance(database, card) == (150, 0)
    clock.advance(timedelta(days=1))
    done = release(database, made.id, clock, cause="customer")
    assert (done.status, done.released_cause) == ("released", "customer")
    assert release(database, made.id, clock).release_entry_id == done.release_entry_id
    assert balance(database, card) == (300, 0)
    with database.transaction() as session:
        back = session.execute(
            select(Lot.points, Lot.expires_at)
            .where(Lot.entry_id == done.release_entry_id)
            .order_by(Lot.id)
        ).all()
    start = clock.now() - DAY
    assert [tuple(row) for row in back] == [(100, start + 10 * DAY), (50, start + 90 * DAY)]
    clean(database)
    with pytest.raises(reservations.RedemptionClosed):
        capture(database, made.id, clock)


def test_points_whose_lot_expired_while_reserved_expire_on_release(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 300, "soon", expires=5)
    made = hold(database, program, card, clock, 200, "k1")
    clock.advance(timedelta(days=6))  # the 100 left expire; the 200 reserved do on release
    release(database, made.id, clock, cause="expired")
    assert balance(database, card) == (0, 0)
    clean(database)


def test_release_nets_debt_first(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 300, "g")
    made = hold(database, program, card, clock, 300, "k1")
    take_back(database, card, clock, 100, "refund")  # nothing to draw: 100 debt
    with database.transaction() as session:
        assert reload_card(session, card.id).debt == 100
    release(database, made.id, clock)
    with database.transaction() as session:
        fresh = reload_card(session, card.id)
        assert (fresh.available, fresh.debt) == (200, 0)
    clean(database)


def test_codes_are_found_whatever_their_case(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 500, "g")
    made = hold(database, program, card, clock, 200, "k1")
    other = hold(database, program, card, clock, 200, "k2")
    assert made.code != other.code
    clock.advance(8 * DAY)
    capture(database, other.id, clock)
    with database.transaction() as session:
        assert made.code is not None
        found = reservations.find_by_code(session, program, f" {made.code.lower()} ")
        assert found is not None and found.id == made.id
        assert reservations.find_by_code(session, program, "x" * 500) is None
        fresh = reload_card(session, card.id)
        assert [r.id for r in reservations.open_for_card(session, fresh)] == [made.id]
        due = reservations.due_to_expire(session, clock.now(), 10)
        assert [r.id for r in due] == [made.id]


def test_verify_reports_a_reservation_out_of_step(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 500, "g")
    made = hold(database, program, card, clock, 200, "k1")
    with database.transaction() as session:
        row = session.get(Redemption, made.id)
        assert row is not None
        row.status = "captured"  # no capture entry behind it
        checks = {m.check for m in verify(session)}
        session.rollback()
    assert checks == {"reservation", "reserved"}


def test_the_programme_file_names_bad_redemption_fields() -> None:
    document = demo_document()
    bad = {
        **document["redemption"],
        "min_points": 0,
        "steps": [0],
        "code_days": 0,
        "code_prefix": "no spaces",
        "shop_url": "ftp://x",
        "max_share": "150",
    }
    with pytest.raises(ProgramConfigError) as raised:
        parse_program(demo_document(redemption=bad))
    text = str(raised.value)
    for name in ("min_points", "steps", "code_days", "code_prefix", "shop_url", "max_share"):
        assert f"redemption.{name}" in text


def test_max_share_gives_the_least_order_a_code_may_pay_towards() -> None:
    share = RedemptionRules(max_share=Decimal("33.3"))
    assert share.minimum_order_minor(100) == 301  # 100 / 0.333 = 300.3…: rounded up
    assert RedemptionRules(max_share=Decimal("50")).minimum_order_minor(200) == 400
    assert RedemptionRules(max_share=Decimal("100")).minimum_order_minor(7) == 7
    assert RedemptionRules().minimum_order_minor(200) is None
    assert share.share_exceeded(100, 300) and not share.share_exceeded(100, 301)
    assert not RedemptionRules().share_exceeded(100, 1)


def test_a_capture_over_max_share_writes_nothing(
    database: Database, program: Program, card: Card, clock: FixedClock
) -> None:
    give(database, card, clock, 500, "g")
    made = hold(database, program, card, clock, 300, "k-share")  # $3.00; the demo's 50 %
    with database.transaction() as session:
        found = session.get(Redemption, made.id)
        assert found is not None
        with pytest.raises(reservations.ShareExceeded):
            reservations.capture(
                session, found, order_ref="o-1", actor="staff:1", now=clock.now(), order_minor=599
            )
    with database.transaction() as session:
        found = session.get(Redemption, made.id)
        assert found is not None and found.status == "reserved"
        reservations.capture(
            session, found, order_ref="o-1", actor="staff:1", now=clock.now(), order_minor=600
        )
        assert found.status == "captured"
    clean(database)


@pytest.mark.once
def test_an_orders_captured_redemptions_are_found_by_index() -> None:
    """order_reversed looks redemptions up by programme and order_ref: an index, no scan. The
    table's statistics are those of a grown programme (10,000 redemptions, three statuses,
    one per order), written as ANALYZE would, so SQLite's choice does not hang on which empty
    index it met first."""
    engine = create_engine("sqlite://")
    Model.metadata.create_all(engine)
    query = (
        select(Redemption.id)
        .where(
            Redemption.program_id == 1,
            Redemption.order_ref == "shopify:s:order:1",
            Redemption.status == "captured",
        )
        .compile(engine, compile_kwargs={"literal_binds": True})
    )
    stats = {
        "ix_redemptions_card_status": "10000 10 4",
        "ix_redemptions_status_expires": "10000 3334 1",
        "ix_redemptions_program_order_ref": "10000 10000 1",
    }
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        for index, stat in stats.items():
            conn.exec_driver_sql(
                "INSERT INTO sqlite_stat1 VALUES ('redemptions', ?, ?)", (index, stat)
            )
        conn.exec_driver_sql("ANALYZE sqlite_schema")  # reload the statistics
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}"))
    engine.dispose()
    assert "ix_redemptions_program_order_ref" in plan, plan
