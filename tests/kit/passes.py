"""Cards in known states, made through the real webhook (holds released as the scheduled job
does), their unpacked passes, and the statements a request runs."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from tests.kit.apple import DEVICE, PTID
from tests.kit.webhooks import PUBLIC_URL, post_orders
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty import ledger
from walletcards.loyalty.models import Card


def paid_order(
    client: FlaskClient,
    clock: FixedClock,
    order_id: str,
    amount: str = "50.00",
    locale: str = "en",
    customer: str = "c-1",
) -> dict[str, Any]:
    body = {
        "id": f"evt-{order_id}",
        "type": "order.paid",
        "order": {
            "id": order_id,
            "currency": "USD",
            "paid_at": clock.now().isoformat(),
            "lines": [{"amount": amount, "sku": "BEANS"}],
        },
        "customer": {
            "id": customer,
            "email": f"{customer}@example.com",
            "name": "Ann Lee",
            "locale": locale,
        },
    }
    response = post_orders(client, body, at=int(clock.now().timestamp()))
    assert response.status_code == 200, response.json
    answer: dict[str, Any] = response.json  # type: ignore[assignment]
    return answer


def release_holds(database: Database, now: datetime) -> None:
    """What the scheduled job does for idle cards: release ended holds, write expiries."""
    with database.transaction() as session:
        for card_id in session.execute(select(Card.id)).scalars().all():
            ledger.settle_time(session, ledger.lock_card(session, card_id), now)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"ApplePass {token}"}


def registration_url(serial: str, ptid: str = PTID, device: str = DEVICE) -> str:
    return f"/passkit/v1/devices/{device}/registrations/{ptid}/{serial}"


def token_of(answer: dict[str, Any]) -> str:
    url: str = answer["card"]["url"]
    assert url.startswith(f"{PUBLIC_URL}/c/")
    return url.rsplit("/", 1)[-1]


def unpack(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


def pass_json(files: dict[str, bytes]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(files["pass.json"])
    return document


def fields(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    card = document["storeCard"]
    return {f["key"]: f for group in card.values() for f in group}


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app runs meanwhile."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    engine = app.extensions["walletcards.db"].engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)
