"""The dashboard reads closed days from daily roll-ups (admin/rollups.py) and gives exactly the
figures the ledger, orders and cards give, whatever is rolled up: nothing, everything or every
other day, over day, week and month buckets, with refunds, cancellations, restored redemptions
and rows on both sides of local midnights around New York's switch to summer time."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select

from tests.admin.seed import entry, order
from tests.kit.programs import MakeCard
from walletcards.admin.metrics import dashboard
from walletcards.admin.period import Period, midnight
from walletcards.admin.rollup_models import DailyRollup
from walletcards.admin.rollups import LOOKBACK_DAYS, due_days, rebuild, roll_up
from walletcards.cli import main
from walletcards.clock import SystemClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program

ZONE = "America/New_York"
NOW = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)  # 11:00 on 18 March in New York
KINDS = ("earn", "bonus", "redeem", "restore", "reversal", "expiry")
PERIODS = [
    Period(date(2026, 3, 1), date(2026, 3, 17), ZONE),  # days, all closed
    Period(date(2026, 3, 5), date(2026, 3, 20), ZONE),  # days, today and two days to come
    Period(date(2025, 12, 1), date(2026, 3, 18), ZONE),  # weeks
    Period(date(2024, 1, 1), date(2026, 3, 18), ZONE),  # months
]


def _instant(rng: random.Random) -> str:
    """Mostly a local midnight, a second before or after one (05:00Z before the switch on
    8 March, 04:00Z after it), else any time in the three weeks."""
    day = date(2026, 3, 1) + timedelta(days=rng.randrange(18))
    edge = midnight(day, ZONE) + timedelta(seconds=rng.choice((-1, 0, 1)))
    other = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(18 * 86400))
    when = edge if rng.random() < 0.6 else other
    return when.replace(tzinfo=None).isoformat()


def _seed(database: Database, cards: list[Card], seed: int) -> None:
    rng = random.Random(seed)
    with database.transaction() as session:
        for card in cards:
            row = session.get(Card, card.id)
            assert row is not None
            row.created_at = datetime.fromisoformat(_instant(rng)).replace(tzinfo=UTC)
            for _ in range(rng.randrange(1, 8)):
                session.add(entry(row, rng.choice(KINDS), rng.randrange(1, 500), _instant(rng)))
            for _ in range(rng.randrange(0, 4)):
                total = rng.randrange(100, 9000)
                status = rng.choice(("paid", "partially_refunded", "refunded", "cancelled"))
                refunded = {"paid": 0, "partially_refunded": total // 3, "refunded": total}
                session.add(
                    order(
                        row,
                        total,
                        _instant(rng),
                        status,
                        refunded.get(status, 0),
                        repeat=rng.random() < 0.5,
                    )
                )


def _figures(database: Database, program: Program) -> list[dict[str, Any]]:
    with database.transaction() as session:
        return [dashboard(session, program, p, NOW).as_json() for p in PERIODS]


def _rollup(database: Database, program: Program, days: list[date]) -> None:
    with database.transaction() as session:
        session.execute(delete(DailyRollup))
        rebuild(session, program, days, NOW)


@pytest.mark.parametrize("seed", range(5))
def test_the_dashboard_is_identical_from_rollups_and_from_the_ledger(
    database: Database, program: Program, make_card: MakeCard, seed: int
) -> None:
    cards = [make_card(program, email=f"r{seed}-{i}@example.com") for i in range(8)]
    _seed(database, cards, seed)
    from_ledger = _figures(database, program)
    assert from_ledger[0]["points_issued"] > 0 and from_ledger[0]["orders"] > 0
    every_day = [date(2023, 12, 1) + timedelta(days=n) for n in range(900)]
    _rollup(database, program, every_day)
    with database.transaction() as session:
        rows = session.execute(select(func.count()).select_from(DailyRollup)).scalar_one()
        issued = session.execute(select(func.sum(DailyRollup.issued))).scalar_one()
    assert rows == (date(2026, 3, 18) - date(2023, 12, 1)).days  # closed days only: not today
    assert issued > 0
    assert _figures(database, program) == from_ledger
    _rollup(database, program, every_day[seed % 2 :: 2])
    assert _figures(database, program) == from_ledger


def test_a_late_entry_into_a_closed_day_shows_after_the_next_run(
    database: Database, program: Program, make_card: MakeCard
) -> None:
    card = make_card(program, email="late@example.com")
    _seed(database, [card], 7)
    period = PERIODS[0]
    written = roll_up(database, NOW)  # every day since the first card, entry or order
    assert written > 0
    assert roll_up(database, NOW) == 0  # idempotent: nothing due again within the hour
    with database.transaction() as session:
        before = dashboard(session, program, period, NOW).issued
        row = session.get(Card, card.id)
        assert row is not None
        session.add(entry(row, "earn", 1000, "2026-03-10T12:00:00"))  # backdated, closed day
    with database.transaction() as session:
        assert dashboard(session, program, period, NOW).issued == before  # the row, not yet
    later = NOW + timedelta(hours=1)
    assert roll_up(database, later) == written  # the look-back window, rewritten
    with database.transaction() as session:
        assert dashboard(session, program, period, later).issued == before + 1000


def test_today_is_always_read_live(
    database: Database, program: Program, make_card: MakeCard
) -> None:
    card = make_card(program, email="today@example.com")
    roll_up(database, NOW)
    with database.transaction() as session:
        row = session.get(Card, card.id)
        assert row is not None
        session.add(entry(row, "bonus", 40, "2026-03-18T14:59:00"))
    today = Period(date(2026, 3, 18), date(2026, 3, 18), ZONE)
    with database.transaction() as session:
        assert dashboard(session, program, today, NOW).issued == 40
        assert session.get(DailyRollup, (program.id, date(2026, 3, 18))) is None


def test_the_job_fills_older_days_without_a_row_a_few_at_a_time(
    database: Database, program: Program, make_card: MakeCard
) -> None:
    card = make_card(program, email="old@example.com")
    with database.transaction() as session:
        row = session.get(Card, card.id)
        assert row is not None
        row.created_at = datetime(2025, 1, 1, 12, tzinfo=UTC)
        session.add(entry(row, "earn", 5, "2025-01-01T12:00:00"))
    with database.transaction() as session:
        due = due_days(session, program, NOW)
    assert len(due) == LOOKBACK_DAYS + 92
    assert len(set(due)) == len(due) and max(due) == date(2026, 3, 17)
    written = 0
    for hour in range(10):
        written += roll_up(database, NOW + timedelta(hours=hour))
    with database.transaction() as session:
        rows = session.execute(select(func.count()).select_from(DailyRollup)).scalar_one()
    assert rows == (date(2026, 3, 18) - date(2025, 1, 1)).days  # every closed day, at last
    assert written >= rows


def test_the_command_rebuilds_days_past_the_jobs_look_back_on_demand(
    database: Database, program: Program, make_card: MakeCard
) -> None:
    card = make_card(program, email="cli@example.com")
    _seed(database, [card], 3)
    env = {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}
    runner = CliRunner()
    done = runner.invoke(main, ["dashboard", "rollup", "--program", program.slug], env=env)
    assert done.exit_code == 0, done.output
    with database.transaction() as session:
        first = session.execute(select(func.min(DailyRollup.day))).scalar_one()
        issued = session.execute(select(func.sum(DailyRollup.issued))).scalar_one()
    assert first == date(2026, 2, 28) or first == date(2026, 3, 1)
    assert issued == sum(p["issued"] for p in _figures_live(database, program))
    before = _issued(database, date(2026, 3, 12))
    with database.transaction() as session:  # a correction into a day months ago
        row = session.get(Card, card.id)
        assert row is not None
        session.add(entry(row, "earn", 700, "2026-03-12T12:00:00"))
    roll_up(database, SystemClock().now() + timedelta(hours=2))  # past the look-back: not seen
    assert _issued(database, date(2026, 3, 12)) == before
    since = ["dashboard", "rollup", "--program", program.slug, "--since", "2026-03-12"]
    done = runner.invoke(main, since, env=env)
    assert done.exit_code == 0 and " day(s) rolled up" in done.output
    assert _issued(database, date(2026, 3, 12)) == before + 700
    bad = runner.invoke(main, ["dashboard", "rollup", "--program", "nope"], env=env)
    assert bad.exit_code == 1 and "no programme" in bad.output
    bad = runner.invoke(
        main, ["dashboard", "rollup", "--program", program.slug, "--since", "x"], env=env
    )
    assert bad.exit_code != 0 and "--since" in bad.output


def _issued(database: Database, day: date) -> int:
    with database.transaction() as session:
        return int(
            session.execute(select(DailyRollup.issued).where(DailyRollup.day == day)).scalar_one()
        )


def _figures_live(database: Database, program: Program) -> list[dict[str, Any]]:
    with database.transaction() as session:
        found = dashboard(session, program, Period(date(2026, 2, 1), date(2026, 3, 31), ZONE), NOW)
    series: list[dict[str, Any]] = found.as_json()["series"]
    return series
