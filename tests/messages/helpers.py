"""Members with or without consent and a wallet, and the messages API's calls."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.kit.apple import PTID
from tests.kit.programs import MakeCard
from walletcards.apple.models import AppleRegistration
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.messages.models import MessageRecipient

URL = "/api/v1/programs/demo/messages"


def member(
    database: Database,
    make_card: MakeCard,
    program: Program,
    clock: FixedClock,
    name: str,
    *,
    consent: bool = True,
    device: bool = True,
    tier: str | None = None,
) -> Card:
    """A card whose customer gave (or not) marketing consent, with (or not) an iPhone."""
    card = make_card(program, email=f"{name}@example.com", name=name)
    with database.transaction() as session:
        row = session.get(Card, card.id)
        assert row is not None
        row.tier_code = tier
        customer = session.get(Customer, row.customer_id)
        assert customer is not None
        customer.marketing_consent = consent
        if device:
            session.add(
                AppleRegistration(
                    card_id=card.id,
                    device_library_id=f"device-{name}",
                    push_token=f"{card.id:064x}",
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )
    return card


def register(
    client: FlaskClient, database: Database, token: str, device: str, push_token: str
) -> tuple[str, str]:
    """Registers a device for the card with public ``token``; returns its serial and secret."""
    with database.transaction() as session:
        card = session.execute(select(Card).where(Card.public_token == token)).scalar_one()
        serial, secret = card.serial, card.auth_token
    response = client.post(
        f"/passkit/v1/devices/{device}/registrations/{PTID}/{serial}",
        json={"pushToken": push_token},
        headers={"Authorization": f"ApplePass {secret}"},
    )
    assert response.status_code == 201
    return serial, secret


def post(
    client: FlaskClient, body: Any, headers: dict[str, str], key: str | None = None, url: str = URL
) -> Any:
    return client.post(
        url, json=body, headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())}
    )


def message(text: str = "Fresh croissants today", **extra: Any) -> dict[str, Any]:
    return {"text": {"en": text}, "kind": "service", "audience": {"all": True}, **extra}


def recipients(database: Database, message_id: int) -> dict[int, tuple[str, str | None]]:
    """card id -> (status, skipped reason)."""
    with database.transaction() as session:
        rows = session.execute(
            select(
                MessageRecipient.card_id, MessageRecipient.status, MessageRecipient.skipped_reason
            ).where(MessageRecipient.message_id == message_id)
        ).all()
    return {card_id: (status, reason) for card_id, status, reason in rows}
