"""Webhook deliveries are accepted by the view and applied by an applier soon after: the
``drain_inbox`` fixture runs the applier until nothing is due (what the worker's applier
threads do), and ``deliver`` posts a delivery, checks it was accepted, drains the inbox and
returns the answer recorded for it (what the synchronous view used to answer)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.kit.webhooks import post_shopify, post_woo
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.orders.applier import Applier
from walletcards.orders.intake import WAITING
from walletcards.orders.models import InboxDelivery
from walletcards.settings import Settings

DrainInbox = Callable[[], int]


@pytest.fixture
def drain_inbox(database: Database, settings: Settings, clock: FixedClock) -> DrainInbox:
    """Apply every delivery due now; returns how many the applier took."""

    def drain() -> int:
        return Applier(database, settings.public_url, clock).drain()

    return drain


def recorded(database: Database, source: str, delivery_id: str) -> dict[str, Any]:
    """The answer recorded for an applied delivery (asserting it was applied)."""
    with database.transaction() as session:
        row = session.execute(
            select(InboxDelivery).where(
                InboxDelivery.source == source, InboxDelivery.delivery_id == delivery_id[:255]
            )
        ).scalar_one()
        assert row.outcome != WAITING, (row.id, row.detail)
        assert row.response is not None, (row.id, row.outcome, row.detail)
        return dict(row.response)


class Deliver:
    def __init__(self, client: FlaskClient, database: Database, drain: DrainInbox) -> None:
        self.client, self.database, self.drain = client, database, drain

    def shopify(
        self,
        topic: str,
        payload: dict[str, Any] | bytes,
        *,
        webhook_id: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """POST a Shopify delivery, apply it; its recorded answer."""
        webhook_id = webhook_id or str(uuid.uuid4())
        response = post_shopify(self.client, topic, payload, webhook_id=webhook_id, **kwargs)
        assert (response.status_code, response.json) == (200, {"status": "accepted"}), (
            response.status_code,
            response.get_data()[:300],
        )
        self.drain()
        return recorded(self.database, "shopify", webhook_id)

    def woo(
        self, payload: dict[str, Any] | bytes, *, delivery_id: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """POST a WooCommerce delivery, apply it; its recorded answer."""
        delivery_id = delivery_id or uuid.uuid4().hex
        response = post_woo(self.client, payload, delivery_id=delivery_id, **kwargs)
        assert (response.status_code, response.json) == (200, {"status": "accepted"}), (
            response.status_code,
            response.get_data()[:300],
        )
        self.drain()
        return recorded(self.database, "woocommerce", delivery_id)


@pytest.fixture
def deliver(client: FlaskClient, database: Database, drain_inbox: DrainInbox) -> Deliver:
    return Deliver(client, database, drain_inbox)
