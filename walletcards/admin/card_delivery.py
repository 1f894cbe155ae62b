"""The proof of delivery in the owner's card view (``GET /api/v1/programs/<slug>/cards/<n>``,
admin/api.py): the card's wallets and, for the latest message it was sent, when APNs accepted
the push, when the phone fetched the pass carrying it, and the gap — with a sentence in the
owner's language ("last update fetched by the phone 2 minutes after the push", Babel's
relative times).

Per device: each registered iPhone / Apple Watch with when it registered and last re-registered.
The fetch itself is per card, not per device: the PassKit web service's GET of a pass carries
the pass's authentication token, not the device's id, so no server can tell which of a card's
devices fetched it (two devices: the first fetch counts).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.dates import format_timedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.apple.models import AppleRegistration
from walletcards.google.models import GoogleObject
from walletcards.i18n import language
from walletcards.messages.models import SENT, Message, MessageRecipient

MAX_DEVICES = 20


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def card_delivery(session: Session, card_id: int, now: datetime, lang: str) -> dict[str, Any]:
    devices = session.execute(
        select(AppleRegistration.created_at, AppleRegistration.updated_at)
        .where(AppleRegistration.card_id == card_id)
        .order_by(AppleRegistration.id)
        .limit(MAX_DEVICES)
    ).all()
    google = session.get(GoogleObject, card_id)
    latest = session.execute(
        select(
            Message.id,
            MessageRecipient.pushed_at,
            MessageRecipient.fetched_at,
            MessageRecipient.google_at,
        )
        .join(Message, Message.id == MessageRecipient.message_id)
        .where(MessageRecipient.card_id == card_id, MessageRecipient.status == SENT)
        .order_by(Message.started_at.desc(), Message.id.desc())
        .limit(1)
    ).first()
    last: dict[str, Any] | None = None
    if latest is not None:
        message_id, pushed, fetched, google_at = latest
        gap = int((fetched - pushed).total_seconds()) if pushed and fetched else None
        last = {
            "message_id": message_id,
            "pushed_at": _when(pushed),
            "fetched_at": _when(fetched),
            "google_at": _when(google_at),
            "fetched_after_seconds": gap,
        }
    return {
        "devices": [
            {"platform": "apple", "registered_at": _when(created), "updated_at": _when(updated)}
            for created, updated in devices
        ],
        "google": google is not None,
        "last_message": last,
        "summary": summary(last, now, lang),
    }


def summary(last: dict[str, Any] | None, now: datetime, lang: str) -> str:
    t = language(lang)
    if last is None:
        return t.gettext("no message sent to this card yet")
    pushed, fetched = last["pushed_at"], last["fetched_at"]
    if pushed and fetched:
        gap = datetime.fromisoformat(fetched) - datetime.fromisoformat(pushed)
        words = format_timedelta(gap, threshold=1.5, locale=t.locale)
        return t.gettext("last update fetched by the phone %(gap)s after the push", gap=words)
    if fetched:
        return t.gettext("last update fetched by the phone")
    if pushed:
        ago = format_timedelta(
            datetime.fromisoformat(pushed) - now, add_direction=True, locale=t.locale
        )
        return t.gettext("last update pushed %(ago)s, not fetched by the phone yet", ago=ago)
    return t.gettext("last update not pushed yet")
