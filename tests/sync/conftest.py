"""Sync test kit: a loopback APNs (TLS + HTTP/2, client certificate from the programme's dev
chain), clients whose settings point the real APNs client at it, an app and a worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.apple.conftest import (  # noqa: F401  (fixtures)
    apple_table,
    chain_dir,
    dev_chain,
    program,
)
from tests.fakes.apns import FakeApns
from tests.fakes.tls import loopback_server_cert
from walletcards import create_app
from walletcards.apple.certificates import DevChain
from walletcards.clients import Clients, build_clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Program
from walletcards.settings import Secret, Settings
from walletcards.sync.worker import Worker

SECRET_KEY = "test-secret-key-0123456789"


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return loopback_server_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def apns(
    tls_files: tuple[Path, Path, Path], chain_dir: Path, dev_chain: DevChain, tmp_path: Path
) -> Iterator[FakeApns]:
    client_ca = tmp_path / "client-ca.pem"
    client_ca.write_bytes(
        (chain_dir / "wwdr.pem").read_bytes() + (chain_dir / "root.pem").read_bytes()
    )
    fake = FakeApns(str(tls_files[1]), str(tls_files[2]), client_ca=str(client_ca))
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(
    database: Database, apns: FakeApns, tls_files: tuple[Path, Path, Path], tmp_path: Path
) -> Settings:
    return Settings(
        database_url=database.url,
        public_url="https://cards.example.com",
        secret_key=Secret(SECRET_KEY),
        instance_path=tmp_path,
        apns_url=f"https://127.0.0.1:{apns.port}",
        apns_ca_file=str(tls_files[0]),
    )


@pytest.fixture
def clients(settings: Settings, clock: FixedClock) -> Iterator[Clients]:
    with build_clients(settings, clock) as made:
        yield made


@pytest.fixture
def app(settings: Settings, clients: Clients) -> Iterator[Flask]:
    app = create_app(settings, clients)
    yield app
    app.extensions["walletcards.db"].dispose()


@pytest.fixture
def client(app: Flask, program: Program) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def worker(database: Database, clients: Clients, settings: Settings) -> Worker:
    return Worker(database, clients, settings)
