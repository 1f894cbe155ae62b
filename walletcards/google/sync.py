"""Google cards for the worker and the card page: class and object bodies from the programme
and the card face, sent through ``Clients.google``, and the notification budget (what
customers care about, at most 3 per card per 24 h; Google refuses more with 403
quotaExceeded and the rest update silently)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from walletcards.cardface import CardFace, card_face
from walletcards.google.models import GoogleNotification, GoogleObject
from walletcards.google.objects import loyalty_class, loyalty_object
from walletcards.links import card_links
from walletcards.loyalty.config_tables import GoogleTable
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import program_config
from walletcards.loyalty.rules import tier_rank
from walletcards.settings import Settings

if TYPE_CHECKING:
    from walletcards.clients import Clients

NOTIFY_BUDGET = 3
BUDGET_WINDOW = timedelta(hours=24)
DEFAULT_BACKGROUND = "#2c3e50"  # the class's colour when [apple] sets none


def google_table(program: Program) -> GoogleTable | None:
    return program_config(program).google


def loyalty_class_of(program: Program, settings: Settings) -> dict[str, Any]:
    """The programme's loyalty class: its names, locale, logo and the pass's colour."""
    table = google_table(program)
    assert table is not None
    config = program_config(program)
    background = config.apple.colours.get("background_color") if config.apple else None
    return loyalty_class(
        table.issuer_id,
        program.slug,
        {lang: config.name_in(lang) for lang in config.languages},
        config.locale,
        f"{settings.public_url}/p/{program.slug}/logo.png",
        background.hex if background else DEFAULT_BACKGROUND,
    )


def upsert_card(
    clients: Clients,
    program: Program,
    settings: Settings,
    body: dict[str, Any],
    notify: bool = False,
) -> None:
    """The programme's class (once per programme version per process), then the card's
    object; raises GoogleWalletError. No database: called outside transactions."""
    table = google_table(program)
    assert table is not None
    account = table.service_account_file
    clients.once(
        ("google class", program.id, program.config_hash),
        lambda: clients.google.upsert_class(account, loyalty_class_of(program, settings)),
    )
    clients.google.upsert_object(account, body, notify)


@dataclass(frozen=True)
class GoogleUpdate:
    card_id: int
    body: dict[str, Any]
    notify: bool
    face: CardFace
    tier_code: str | None


def plan_update(
    session: Session, program: Program, card: Card, settings: Settings, now: datetime
) -> GoogleUpdate:
    """The object body for the card now, and whether this update should notify the customer:
    a tier up, points newly expiring, or a redemption — within the budget."""
    table = google_table(program)
    assert table is not None
    face = card_face(session, program, card, now, settings.secret_key.reveal())
    url = str(card_links(settings.public_url, card.public_token, True)["url"])
    rotating = card.qr_secret if table.rotating_barcode else None
    body = loyalty_object(table.issuer_id, program.slug, card.serial, face, url, rotating)
    previous = session.get(GoogleObject, card.id)
    notify = False
    if previous is not None:
        tiers = program_config(program).rules.tiers
        tier_up = tier_rank(tiers, card.tier_code) > tier_rank(tiers, previous.tier_code)
        expiring = face.expiring_points > 0 and previous.expiring_points == 0
        redeemed = face.available < previous.available
        if tier_up or expiring or redeemed:
            sent = session.execute(
                select(func.count())
                .select_from(GoogleNotification)
                .where(
                    GoogleNotification.card_id == card.id,
                    GoogleNotification.sent_at > now - BUDGET_WINDOW,
                )
            ).scalar_one()
            notify = sent < NOTIFY_BUDGET
    return GoogleUpdate(card.id, body, notify, face, card.tier_code)


def record_update(session: Session, update: GoogleUpdate, now: datetime) -> None:
    state = session.get(GoogleObject, update.card_id)
    if state is None:
        state = GoogleObject(card_id=update.card_id, object_id=update.body["id"])
        session.add(state)
    state.tier_code = update.tier_code
    state.available = update.face.available
    state.expiring_points = update.face.expiring_points
    state.synced_at = now
    if update.notify:
        session.add(GoogleNotification(card_id=update.card_id, sent_at=now))
