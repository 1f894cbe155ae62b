"""Cards in known states, made through the real webhook, and their unpacked passes."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from flask.testing import FlaskClient

from tests.orders.conftest import PUBLIC_URL, post_orders
from walletcards.clock import FixedClock


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
