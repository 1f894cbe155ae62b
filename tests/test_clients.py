"""The outside systems' seams: build_clients, the keyed cache, the shared backoff, and the
worker's three loops over the in-memory clients (no socket, thread or certificate; the real
clients' own tests run against the loopback fakes in tests/sync, tests/google, tests/outbound)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.data import cards_with_devices
from tests.fakes.memory import MemoryClients, memory_clients
from tests.kit.programs import MakeCard, MakeProgram
from walletcards.apple.apns import ApnsPusher, CertificateAuth, Outcome
from walletcards.apple.models import AppleRegistration
from walletcards.cache import KeyedCache
from walletcards.clients import build_clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.google.client import GoogleWalletApi, PermissionDenied
from walletcards.leases import backoff
from walletcards.loyalty.models import Card, Program
from walletcards.outbound.delivery import deliver_emails, deliver_events
from walletcards.outbound.mail import SmtpMailer, UnconfiguredMailer
from walletcards.outbound.models import OutboundEvent, OutboxEmail
from walletcards.outbound.sender import EventSender, Refused, Unreachable
from walletcards.settings import Secret, Settings
from walletcards.sync.worker import Worker

EVENTS_URL = "https://crm.example.com/hook"


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database.url,
        public_url="https://cards.example.com",
        secret_key=Secret("test-secret-key-0123456789"),
        instance_path=tmp_path,
    )


@pytest.fixture
def memory(clock: FixedClock) -> MemoryClients:
    return memory_clients(clock)


@pytest.fixture
def worker(database: Database, memory: MemoryClients, settings: Settings) -> Worker:
    return Worker(database, memory.clients, settings)


def test_build_clients_makes_the_real_ones_and_opens_nothing_until_used(
    settings: Settings,
) -> None:
    with build_clients(settings) as clients:
        assert isinstance(clients.apns, ApnsPusher)
        assert isinstance(clients.google, GoogleWalletApi)
        assert isinstance(clients.events, EventSender)
        assert isinstance(clients.mailer, UnconfiguredMailer)  # no WALLETCARDS_SMTP_URL
        assert not clients.mailer.configured
        apns_loops = [t for t in threading.enumerate() if t.name == "apns"]
        assert apns_loops == []  # the APNs loop starts with a first push
    relay = Settings(**{**settings.__dict__, "smtp_url": Secret("smtp://u:hunter2@mail:587")})
    with build_clients(relay) as clients:
        assert isinstance(clients.mailer, SmtpMailer) and clients.mailer.configured
        assert "hunter2" not in repr(clients)


def test_the_keyed_cache_makes_once_per_key_and_again_after_a_failure() -> None:
    cache: KeyedCache[str, int] = KeyedCache()
    made: list[str] = []

    def make(key: str) -> int:
        made.append(key)
        if len(made) == 1:
            raise OSError("the first attempt fails")
        return len(made)

    with pytest.raises(OSError):
        cache.get("a", lambda: make("a"))
    assert cache.get("a", lambda: make("a")) == 2
    assert cache.get("a", lambda: make("a")) == 2
    assert cache.get("b", lambda: make("b")) == 3
    assert made == ["a", "a", "b"] and sorted(cache.take_all()) == [2, 3]


def test_one_backoff_doubles_within_its_jitter_up_to_its_cap() -> None:
    for attempts, seconds in ((0, 30), (1, 60), (3, 240)):
        wait = backoff(attempts, timedelta(hours=6)).total_seconds()
        assert seconds * 0.8 <= wait <= seconds * 1.2
    assert backoff(40, timedelta(hours=6)) <= timedelta(hours=6) * 1.2
    cards = backoff(2, timedelta(seconds=300), timedelta(seconds=1), jitter=0.5)
    assert timedelta(seconds=2) <= cards <= timedelta(seconds=6)


def with_google(make_program: MakeProgram) -> Program:
    return make_program(google={"issuer_id": "3388000000012345678", "service_account_file": "-"})


def test_a_step_pushes_every_device_and_card_through_the_clients(
    database: Database,
    make_program: MakeProgram,
    memory: MemoryClients,
    worker: Worker,
    clock: FixedClock,
) -> None:
    program = with_google(make_program)
    with database.transaction() as session:
        tokens = list(cards_with_devices(session, program.id, 3, clock.now()).values())
    memory.apns.script[tokens[1]] = [Outcome.DEAD]
    memory.apns.script[tokens[2]] = [Outcome.RETRY]

    report = worker.drain()

    assert (report.cards, report.pushed, report.dead, report.retry) == (3, 1, 1, 1)
    assert memory.apns.pushes == [("pass.com.example.demo", token) for token in tokens]
    assert all(isinstance(auth, CertificateAuth) for auth in memory.apns.auths)
    assert [kind for kind, _, _ in memory.google.calls] == ["class"] + ["object"] * 3
    assert len(memory.google.objects) == 3
    with database.transaction() as session:
        left = set(session.execute(select(AppleRegistration.push_token)).scalars())
        behind = session.execute(select(Card.id).where(Card.pushed_version < Card.version)).all()
    assert left == {tokens[0], tokens[2]} and len(behind) == 1  # the retried card waits
    clock.advance(timedelta(minutes=10))
    assert worker.drain().pushed == 1


def test_a_refused_google_class_parks_the_card_and_is_tried_again(
    database: Database,
    make_program: MakeProgram,
    make_card: MakeCard,
    memory: MemoryClients,
    worker: Worker,
    clock: FixedClock,
) -> None:
    make_card(with_google(make_program), email="ann@example.com")
    memory.google.failures = [PermissionDenied(403, "not a user of the issuer account")]

    assert worker.drain().retry == 1
    assert worker.drain().cards == 0  # parked for an hour
    clock.advance(timedelta(hours=2))
    assert worker.drain().cards == 1
    assert [kind for kind, _, _ in memory.google.calls] == ["class", "class", "object"]


def test_card_emails_go_through_the_mailer_and_a_failure_backs_off(
    database: Database,
    program: Program,
    make_card: MakeCard,
    memory: MemoryClients,
    settings: Settings,
    clock: FixedClock,
) -> None:
    make_card(program, email="ann@example.com")
    memory.mailer.failures = [ConnectionRefusedError("relay down")]
    assert deliver_emails(database, settings, memory.mailer, clock.now()) == 0
    assert deliver_emails(database, settings, memory.mailer, clock.now()) == 0  # backing off
    clock.advance(timedelta(minutes=2))
    assert deliver_emails(database, settings, memory.mailer, clock.now()) == 1
    (message,) = memory.mailer.sent
    assert message["To"] == "ann@example.com"
    with database.transaction() as session:
        row = session.execute(select(OutboxEmail)).scalar_one()
    assert (row.status, row.attempts) == ("sent", 2)


def test_without_an_smtp_relay_card_emails_wait_unclaimed(
    database: Database, program: Program, make_card: MakeCard, settings: Settings, clock: FixedClock
) -> None:
    make_card(program, email="ann@example.com")
    assert deliver_emails(database, settings, UnconfiguredMailer(), clock.now()) == 0
    with database.transaction() as session:
        row = session.execute(select(OutboxEmail)).scalar_one()
    assert (row.status, row.attempts, row.last_error) == ("pending", 0, None)


def test_events_are_posted_signed_and_each_failure_is_recorded_as_its_status(
    database: Database,
    make_program: MakeProgram,
    make_card: MakeCard,
    memory: MemoryClients,
    settings: Settings,
    clock: FixedClock,
) -> None:
    program = make_program(events=[{"url": EVENTS_URL, "secret": "whsec_0123456789abcdef"}])
    make_card(program, email="ann@example.com")  # card.issued
    memory.events.answers = [500, Unreachable("ConnectError"), Refused("not https")]
    statuses = []
    for _ in range(4):
        delivered = deliver_events(database, settings, memory.events, clock.now())
        with database.transaction() as session:
            row = session.execute(select(OutboundEvent)).scalar_one()
            statuses.append((delivered, row.status, row.last_status))
        clock.advance(timedelta(minutes=30))
    assert statuses == [
        (0, "pending", "HTTP 500"),
        (0, "pending", "ConnectError"),
        (0, "pending", "refused: not https"),
        (1, "delivered", "HTTP 200"),
    ]
    url, _, headers = memory.events.posts[-1]
    assert url == EVENTS_URL and headers["Walletcards-Signature"].startswith("t=")
