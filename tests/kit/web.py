"""The app under test: settings on the test database, the outside clients (a frozen clock),
the app, its test client and the app served on a loopback port."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.fakes.loopback import serving
from tests.kit.webhooks import PUBLIC_URL
from walletcards import create_app
from walletcards.clients import Clients, build_clients
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Program
from walletcards.settings import Secret, Settings

SECRET_KEY = "test-secret-key-0123456789"
MakeSettings = Callable[..., Settings]


@pytest.fixture
def make_settings(database: Database, tmp_path: Path) -> MakeSettings:
    """Settings on the test database; keyword arguments change fields (apns_url, smtp_url...)."""
    base = Settings(
        database_url=database.url,
        public_url=PUBLIC_URL,
        secret_key=Secret(SECRET_KEY),
        instance_path=tmp_path,
    )

    def make(**changes: Any) -> Settings:
        return dataclasses.replace(base, **changes)

    return make


@pytest.fixture
def settings(make_settings: MakeSettings) -> Settings:
    """The app's settings; areas with a fake outside service override this."""
    return make_settings()


@pytest.fixture
def clients(settings: Settings, clock: FixedClock) -> Iterator[Clients]:
    """The real clients, built from the test's settings (areas with fakes point them there)."""
    with build_clients(settings, clock) as made:
        yield made


@pytest.fixture
def app(settings: Settings, clients: Clients) -> Iterator[Flask]:
    app = create_app(settings, clients)
    yield app
    app.extensions["walletcards.db"].dispose()


@pytest.fixture
def client(app: Flask, program: Program) -> FlaskClient:
    """A test client of the app, the test's ``program`` in place."""
    return app.test_client()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served on a loopback port (threaded), for a real browser; yields its URL."""
    with serving(app) as server:
        yield server.url


def json_of(response: TestResponse) -> dict[str, Any]:
    """The response's JSON object (asserting it is one), typed for indexing."""
    body = response.json
    assert isinstance(body, dict), (response.status_code, response.get_data()[:300])
    return body
