"""APNs kit: a loopback APNs (TLS + HTTP/2, client certificate from the Apple kit's chain),
settings that point the real APNs client at it, and a worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.apns import FakeApns
from tests.fakes.tls import loopback_server_cert
from tests.kit.web import MakeSettings
from walletcards.apple.certificates import DevChain
from walletcards.clients import Clients
from walletcards.db import Database
from walletcards.settings import Settings
from walletcards.sync.worker import Worker


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
def apns_settings(
    make_settings: MakeSettings, apns: FakeApns, tls_files: tuple[Path, Path, Path]
) -> Settings:
    """Settings whose APNs client talks to the loopback APNs."""
    return make_settings(apns_url=f"https://127.0.0.1:{apns.port}", apns_ca_file=str(tls_files[0]))


@pytest.fixture
def worker(database: Database, clients: Clients, settings: Settings) -> Worker:
    return Worker(database, clients, settings)
