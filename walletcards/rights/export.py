"""Everything kept about one customer, as one JSON document (GDPR art. 15 and 20; 152-FZ art.
14): `walletcards customer export` and ``GET …/customers/<member>/export`` both print this.

Rows are exported column by column (a column added later is exported without a change here),
except the card's secrets: ``auth_token`` (Apple's authenticationToken), ``qr_secret`` (signs
the QR code), ``public_token`` (the card page's address, a bearer link) and the sync worker's
bookkeeping; where a secret occurs elsewhere (the card's link in the events sent to the shop's
CRM) it is cut to its first 8 characters. Apple push tokens are tied to the phone, so they are
personal data: exported masked (their first 8 characters), as the logs show them. ``TABLES``
names the section of every table that refers to a customer or a card; tests/rights fails for a
new such table until it is exported here or listed in ``EXCLUDED`` with the reason.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from walletcards.apple.apns import short
from walletcards.apple.models import AppleRegistration
from walletcards.cashier.models import RotatingCodeUse
from walletcards.db import Model
from walletcards.google.models import GoogleNotification, GoogleObject
from walletcards.loyalty.campaign_models import CampaignGrant
from walletcards.loyalty.member_models import Consent, WelcomeClaim
from walletcards.loyalty.models import (
    Card,
    Customer,
    LedgerEntry,
    Lot,
    Order,
    Program,
    Refund,
)
from walletcards.loyalty.redemption_models import Redemption
from walletcards.loyalty.referral_models import Referral
from walletcards.messages.models import MessageRecipient
from walletcards.orders.models import InboxDelivery
from walletcards.outbound.models import OutboundEvent, OutboxEmail
from walletcards.shops.models import ShopTierTag

SCHEMA = "walletcards.customer-export"
SCHEMA_VERSION = 1
CARD_SECRETS = ("auth_token", "qr_secret", "public_token")
CARD_BOOKKEEPING = ("pushed_version", "push_lease_until", "push_attempts")
# table -> the section of the document that holds its rows
TABLES = {
    "customers": "customer",
    "consents": "consents",
    "cards": "card",
    "orders": "orders",
    "refunds": "orders[].refunds",
    "ledger_entries": "ledger",
    "lots": "lots",
    "redemptions": "redemptions",
    "apple_registrations": "apple_devices",
    "google_objects": "google_object",
    "google_notifications": "google_object.notifications",
    "outbox_emails": "emails",
    "outbound_events": "events",
    "rotating_code_uses": "till_code_uses",
    "welcome_claims": "welcome_claims",
    "inbox_deliveries": "shop_deliveries",
    "campaign_grants": "campaign_grants",
    "shop_tier_tags": "shop_tier_tags",
    "referrals": "referrals",
    "message_recipients": "messages",
}
# (RFM: the card's own last_order_at / orders_count / spend_minor are in "card"; the scores
# are not stored per card but read off the programme's rfm_cuts)
# tables referring to a customer or card that the export leaves out, and why
EXCLUDED: dict[str, str] = {}


def plain(value: Any) -> Any:
    """A column's value as JSON: dates and times in ISO 8601."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


_REFERRAL_OMIT = ("program_id", "referrer_card_id", "friend_card_id")
_FRIEND_CODE = (
    "friend_code",
    "friend_code_minor",
    "friend_code_expires_at",
    "friend_code_state",
    "friend_shop_code_id",
    "friend_code_error",
)


def row(obj: Model, omit: Iterable[str] = ()) -> dict[str, Any]:
    """Every column of ``obj`` except ``omit`` (ids of our own tables included, so sections
    can be related: ``ledger[].order_id`` is ``orders[].id``)."""
    skip = set(omit)
    return {
        column.key: plain(getattr(obj, column.key))
        for column in obj.__mapper__.column_attrs
        if column.key not in skip
    }


def _all(session: Session, query: Any) -> list[Any]:
    return list(session.execute(query).scalars())


def export_customer(
    session: Session, program: Program, customer: Customer, now: datetime
) -> dict[str, Any]:
    """The document (see the module doc); read-only."""
    card = session.execute(select(Card).where(Card.customer_id == customer.id)).scalar_one()
    orders = _all(session, select(Order).where(Order.card_id == card.id).order_by(Order.id))
    their_orders = select(Order.id).where(Order.card_id == card.id)
    refunds: dict[int, list[dict[str, Any]]] = {}
    for refund in _all(
        session, select(Refund).where(Refund.order_id.in_(their_orders)).order_by(Refund.id)
    ):
        refunds.setdefault(refund.order_id, []).append(row(refund, ("program_id",)))
    google = session.get(GoogleObject, card.id)
    by_card = (
        (LedgerEntry, "ledger"),
        (Lot, "lots"),
        (Redemption, "redemptions"),
        (OutboxEmail, "emails"),
        (OutboundEvent, "events"),
        (WelcomeClaim, "welcome_claims"),
        (CampaignGrant, "campaign_grants"),
        (ShopTierTag, "shop_tier_tags"),
        (MessageRecipient, "messages"),  # the owner's messages to the card and their delivery
    )
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "exported_at": now.isoformat(),
        "program": {"slug": program.slug, "name": program.name},
        "customer": row(customer, ("program_id",)),
        "consents": [
            row(c, ("program_id", "customer_id"))
            for c in _all(
                session,
                select(Consent).where(Consent.customer_id == customer.id).order_by(Consent.id),
            )
        ],
        "card": row(card, ("program_id", "customer_id", *CARD_SECRETS, *CARD_BOOKKEEPING)),
        "orders": [
            {**row(o, ("program_id", "card_id")), "refunds": refunds.get(o.id, [])} for o in orders
        ],
        "apple_devices": [
            {
                "device_library_id": r.device_library_id,
                "push_token": short(r.push_token),
                "registered_at": plain(r.created_at),
                "updated_at": plain(r.updated_at),
            }
            for r in _all(
                session,
                select(AppleRegistration)
                .where(AppleRegistration.card_id == card.id)
                .order_by(AppleRegistration.id),
            )
        ],
        "google_object": None
        if google is None
        else {
            **row(google, ("card_id",)),
            "state": "INACTIVE" if customer.erased_at is not None else "ACTIVE",
            "notifications": [
                plain(n.sent_at)
                for n in _all(
                    session,
                    select(GoogleNotification)
                    .where(GoogleNotification.card_id == card.id)
                    .order_by(GoogleNotification.id),
                )
            ],
        },
        "referrals": [  # as referrer or as friend; the other member's card is not named
            {
                "role": "referrer" if r.referrer_card_id == card.id else "friend",
                # the friend's discount code is the friend's, never in the referrer's export
                **row(r, _REFERRAL_OMIT + (_FRIEND_CODE if r.friend_card_id != card.id else ())),
            }
            for r in _all(
                session,
                select(Referral)
                .where(
                    or_(Referral.referrer_card_id == card.id, Referral.friend_card_id == card.id)
                )
                .order_by(Referral.id),
            )
        ],
        "till_code_uses": [
            row(u, ("card_id",))
            for u in _all(
                session,
                select(RotatingCodeUse)
                .where(RotatingCodeUse.card_id == card.id)
                .order_by(RotatingCodeUse.id),
            )
        ],
        "shop_deliveries": _deliveries(session, program, card),
    }
    for model, section in by_card:
        column = model.__table__.c.card_id
        order = model.__table__.c.get("id", column)
        found = _all(session, select(model).where(column == card.id).order_by(order))
        document[section] = [row(item, ("program_id", "card_id")) for item in found]
    secrets = [getattr(card, name) for name in CARD_SECRETS]
    return {key: masked(value, secrets) for key, value in document.items()}


def masked(value: Any, secrets: list[str]) -> Any:
    """``value`` with each secret, wherever it occurs (the card's link in the events sent to
    the CRM and in the webhook answers), cut to its first 8 characters."""
    if isinstance(value, dict):
        return {key: masked(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item, secrets) for item in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, short(secret))
    return value


def _deliveries(session: Session, program: Program, card: Card) -> list[dict[str, Any]]:
    """The webhook bodies the shop sent about their orders, as received (parsed when JSON)."""
    order_ids = select(Order.external_id).where(Order.card_id == card.id)
    found = []
    for delivery in _all(
        session,
        select(InboxDelivery)
        .where(InboxDelivery.program_id == program.id, InboxDelivery.order_ref.in_(order_ids))
        .order_by(InboxDelivery.id),
    ):
        data = row(delivery, ("program_id",))
        with contextlib.suppress(ValueError):  # kept as text when it is not JSON
            data["body"] = json.loads(delivery.body)
        found.append(data)
    return found
