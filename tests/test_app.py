from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.kit.web import json_of
from walletcards import create_app
from walletcards.db import Database
from walletcards.settings import Secret, Settings


def settings_for(url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=url,
        public_url="http://127.0.0.1:8000",
        secret_key=Secret("test-secret-key-0123456789"),
        instance_path=tmp_path,
    )


@pytest.fixture
def app(database: Database, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(settings_for(database.url, tmp_path))
    yield app
    app.extensions["walletcards.db"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_healthz_says_the_process_is_up_even_while_the_database_is_not(tmp_path: Path) -> None:
    """Liveness is the process alone: a database outage must not get every process restarted
    (readiness, GET /readyz, is where the database shows: tests/test_health.py)."""
    app = create_app(settings_for("postgresql+psycopg://nobody@127.0.0.1:9/none", tmp_path))
    response = app.test_client().get("/healthz")
    app.extensions["walletcards.db"].dispose()
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_unknown_route_answers_json_error_shape(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json == {
        "error": {"code": "not_found", "message": json_of(response)["error"]["message"]}
    }


def test_wrong_method_answers_json_error_shape(client: FlaskClient) -> None:
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.json is not None and response.json["error"]["code"] == "method_not_allowed"


def test_unexpected_exception_is_a_json_500_without_details(app: Flask) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.json == {
        "error": {"code": "internal_error", "message": "something went wrong on our side"}
    }


def test_oversized_body_is_refused_with_413(app: Flask) -> None:
    @app.post("/echo")
    def echo() -> str:
        from flask import request

        return str(len(request.get_data()))

    response = app.test_client().post("/echo", data=b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert (
        response.json is not None and response.json["error"]["code"] == "request_entity_too_large"
    )
