"""The engine never puts bound values (emails, phone numbers, push tokens) into a database
error, so a logged error (the app's 500 handler, the worker's loop) cannot leak them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask, Response
from sqlalchemy.orm import Session

from walletcards import create_app
from walletcards.apple.models import AppleRegistration
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.settings import Secret, Settings

EMAIL = "ann.private@example.com"
PHONE = "+15550104242"
PUSH_TOKEN = "abcdef0123456789" * 4


def duplicate_customer(session: Session, card: Card, clock: FixedClock) -> None:
    for _ in range(2):
        session.add(
            Customer(
                program_id=card.program_id,
                external_id="c-twice",
                email=EMAIL,
                phone=PHONE,
                created_at=clock.now(),
            )
        )
        session.flush()


def duplicate_registration(session: Session, card: Card, clock: FixedClock) -> None:
    for _ in range(2):
        session.add(
            AppleRegistration(
                card_id=card.id,
                device_library_id="phone",
                push_token=PUSH_TOKEN,
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
        session.flush()


@pytest.mark.parametrize("failing", [duplicate_customer, duplicate_registration])
def test_a_logged_database_error_shows_no_bound_values(
    database: Database,
    program: Program,
    card: Card,
    clock: FixedClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    failing: Callable[[Session, Card, FixedClock], None],
) -> None:
    settings = Settings(
        database_url=database.url,
        public_url="https://cards.example.com",
        secret_key=Secret("test-secret-key-0123456789"),
        instance_path=tmp_path,
    )
    app: Flask = create_app(settings)
    app_database: Database = app.extensions["walletcards.db"]

    @app.post("/fails")
    def fails() -> Response:  # an entry point whose statement breaks a unique key
        with app_database.transaction() as session:
            failing(session, card, clock)
        return Response(status=204)

    caplog.set_level(logging.INFO)
    try:
        response = app.test_client().post("/fails")
    finally:
        app_database.dispose()
    assert response.status_code == 500
    assert "unhandled error" in caplog.text and "IntegrityError" in caplog.text
    assert "SQL parameters hidden" in caplog.text
    for secret in (EMAIL, PHONE, PUSH_TOKEN):
        assert secret not in caplog.text
