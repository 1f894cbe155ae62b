"""Many cards, several workers, a killed worker: on PostgreSQL with real threads/processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.data import cards_with_devices
from tests.fakes.apns import FakeApns
from tests.kit.apple import KEY_PASSWORD
from tests.kit.clone import ROOT
from walletcards.clients import build_clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Program
from walletcards.settings import Settings
from walletcards.sync.worker import Worker

pytestmark = pytest.mark.postgres
CARDS = 1000


def many_changed_cards(database: Database, program: Program, now: datetime) -> list[str]:
    """CARDS cards at version 2, never pushed, one registered device each; their tokens."""
    with database.transaction() as session:
        return list(cards_with_devices(session, program.id, CARDS, now).values())


def all_pushed(database: Database) -> bool:
    with database.transaction() as session:
        behind = session.execute(
            select(func.count()).select_from(Card).where(Card.pushed_version < Card.version)
        ).scalar_one()
    return behind == 0


def test_two_workers_push_every_card_once(
    database: Database, program: Program, settings: Settings, apns: FakeApns, clock: FixedClock
) -> None:
    tokens = many_changed_cards(database, program, clock.now())
    clients = [build_clients(settings, clock), build_clients(settings, clock)]
    workers = [Worker(database, c, settings, batch=50) for c in clients]
    threads = [threading.Thread(target=w.drain) for w in workers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        for each in clients:
            each.close()
    assert all_pushed(database)
    counts = {token: len(apns.pushes_to(token)) for token in tokens}
    assert set(counts.values()) == {1}  # every card pushed, none twice


def test_a_worker_killed_mid_batch_loses_nothing(
    database: Database,
    program: Program,
    settings: Settings,
    apns: FakeApns,
    clock: FixedClock,
    chain_dir: Path,
) -> None:
    tokens = many_changed_cards(database, program, clock.now())
    apns.delay = 0.003  # slow enough to kill the worker in the middle of its pushes
    env = {
        **os.environ,
        "WALLETCARDS_DATABASE_URL": database.url,
        "WALLETCARDS_PUBLIC_URL": settings.public_url,
        "WALLETCARDS_SECRET_KEY": settings.secret_key.reveal(),
        "WALLETCARDS_APNS_URL": settings.apns_url,
        "WALLETCARDS_APNS_CA_FILE": str(settings.apns_ca_file),
        "TEST_PASS_KEY_PASSWORD": KEY_PASSWORD,
    }
    command = [sys.executable, "-m", "walletcards.cli", "worker", "--batch", "200", "--lease", "2"]
    first = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while len(apns.requests) < 150 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    killed_at = len(apns.requests)
    assert 0 < killed_at < CARDS and not all_pushed(database)

    second = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 90
        while not all_pushed(database) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    assert all_pushed(database)
    missing = [token for token in tokens if not apns.pushes_to(token)]
    assert missing == []
    # At-least-once: only the killed worker's unfinished batch can have been pushed twice.
    repeats = sum(len(apns.pushes_to(token)) - 1 for token in tokens)
    assert repeats <= 200
