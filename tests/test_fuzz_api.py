"""schemathesis fuzzes every documented endpoint through the WSGI app (bounded examples): no
5xx anywhere, and every 4xx in the documented error shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from walletcards import create_app
from walletcards.db import Database
from walletcards.openapi import document
from walletcards.settings import Secret, Settings

schema = schemathesis.openapi.from_dict(document())


@pytest.fixture
def fuzz_app(database: Database, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        Settings(
            database_url=database.url,
            public_url="https://cards.example.com",
            secret_key=Secret("test-secret-key-0123456789"),
            instance_path=tmp_path,
        )
    )
    yield app
    app.extensions["walletcards.db"].dispose()


@schema.parametrize()
@settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_endpoint_answers_5xx_and_errors_have_the_documented_shape(
    case: schemathesis.Case, fuzz_app: Flask
) -> None:
    response = case.call(app=fuzz_app)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
    if 400 <= response.status_code < 500 and response.headers.get("Content-Type", [""])[
        0
    ].startswith("application/json"):
        body = response.json()
        assert set(body) >= {"error"} and {"code", "message"} <= set(body["error"]), body
