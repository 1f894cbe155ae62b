"""Google test kit: the loopback fake Google, a throwaway service account whose token_uri
points at it, a programme with a [google] table, and an app + worker whose google-auth client
can reach nothing but loopback."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.google import DISCOVERY, FakeGoogle, LoopbackOnly
from tests.fakes.service_account import make_service_account
from tests.kit.programs import MakeProgram
from tests.kit.web import MakeSettings
from tests.kit.webhooks import ORDERS_SECRET
from walletcards.clients import Clients, build_clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.google.client import GoogleWalletApi
from walletcards.loyalty.models import Program
from walletcards.settings import Settings
from walletcards.sync.worker import Worker

ISSUER = "3388000000012345678"


@pytest.fixture
def google(tmp_path: Path) -> Iterator[tuple[FakeGoogle, Path, dict[str, Any]]]:
    public_key: list[bytes] = []
    fake = FakeGoogle(str(DISCOVERY), b"")
    url = fake.start()
    path, info, public = make_service_account(tmp_path, f"{url}/token")
    fake.public_key_pem = public
    public_key.append(public)
    yield fake, path, info
    fake.stop()


@pytest.fixture
def fake_google(google: tuple[FakeGoogle, Path, dict[str, Any]]) -> FakeGoogle:
    return google[0]


@pytest.fixture
def service_account(google: tuple[FakeGoogle, Path, dict[str, Any]]) -> dict[str, Any]:
    return google[2]


@pytest.fixture
def program(make_program: MakeProgram, google: tuple[FakeGoogle, Path, dict[str, Any]]) -> Program:
    return make_program(
        google={"issuer_id": ISSUER, "service_account_file": str(google[1])},
        webhooks={"orders_secret": ORDERS_SECRET},
    )


@pytest.fixture
def transport() -> LoopbackOnly:
    return LoopbackOnly()


@pytest.fixture
def settings(make_settings: MakeSettings, fake_google: FakeGoogle) -> Settings:
    return make_settings(google_api_url=fake_google.url)


@pytest.fixture
def clients(settings: Settings, clock: FixedClock, transport: LoopbackOnly) -> Iterator[Clients]:
    """The real clients; Google's reaches only loopback and does not wait between retries."""
    google = GoogleWalletApi(settings.google_api_url, adapter=transport, sleep=lambda _: None)
    with dataclasses.replace(build_clients(settings, clock), google=google) as made:
        yield made


@pytest.fixture
def worker(database: Database, settings: Settings, clients: Clients) -> Worker:
    return Worker(database, clients, settings)
