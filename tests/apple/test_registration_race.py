"""Identical PassKit registrations arriving together (a device retrying, two requests in
flight) on PostgreSQL with real threads: every one answers 201 or 200, one row each."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.kit.apple import PUSH
from tests.kit.passes import auth, registration_url
from walletcards.apple.models import AppleRegistration
from walletcards.db import Database

pytestmark = pytest.mark.postgres
THREADS = 4
ROUNDS = 8


def test_simultaneous_identical_registrations_make_one_row_and_no_error(
    app: Flask, issued: tuple[str, str, str], database: Database
) -> None:
    _, serial, secret = issued
    for round_ in range(ROUNDS):
        device = f"race{round_}"
        barrier = threading.Barrier(THREADS)
        statuses: list[int] = []

        def register(
            device: str = device,
            barrier: threading.Barrier = barrier,
            statuses: list[int] = statuses,
        ) -> None:
            client = app.test_client()
            barrier.wait()
            response = client.post(
                registration_url(serial, device=device),
                json={"pushToken": PUSH},
                headers=auth(secret),
            )
            statuses.append(response.status_code)

        threads = [threading.Thread(target=register) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(statuses) == [200] * (THREADS - 1) + [201], statuses
    with database.transaction() as session:
        counts = session.execute(
            select(AppleRegistration.device_library_id, func.count()).group_by(
                AppleRegistration.device_library_id
            )
        ).all()
    assert sorted(counts) == [(f"race{r}", 1) for r in range(ROUNDS)]
