"""Google cards for the worker and the card page: per-programme clients, bodies from the card
face, and the notification budget (what customers care about, at most 3 per card per 24 h;
Google refuses more with 403 quotaExceeded and the rest update silently)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Lock
from typing import Any

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from walletcards.cardface import CardFace, card_face
from walletcards.google.client import GoogleWalletClient, load_service_account
from walletcards.google.models import GoogleNotification, GoogleObject
from walletcards.google.objects import loyalty_class, loyalty_object
from walletcards.links import card_links
from walletcards.loyalty.config_tables import GoogleTable
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import program_config
from walletcards.loyalty.rules import tier_rank
from walletcards.settings import Settings

NOTIFY_BUDGET = 3
BUDGET_WINDOW = timedelta(hours=24)
DEFAULT_BACKGROUND = "#2c3e50"  # the class's colour when [apple] sets none


def google_table(program: Program) -> GoogleTable | None:
    return program_config(program).google


class GoogleClients:
    """One client per programme per process; the class is upserted once per programme version."""

    def __init__(
        self,
        settings: Settings,
        adapter: requests.adapters.BaseAdapter | None = None,
        sleep: Any = None,
    ) -> None:
        self.settings, self.adapter, self.sleep = settings, adapter, sleep
        self._clients: dict[tuple[int, str], GoogleWalletClient] = {}
        self._classes: set[tuple[int, str]] = set()
        self._lock = Lock()

    def client(self, program: Program) -> GoogleWalletClient:
        key = (program.id, program.config_hash)
        with self._lock:
            found = self._clients.get(key)
            if found is None:
                table = google_table(program)
                assert table is not None
                extra = {"sleep": self.sleep} if self.sleep else {}
                found = GoogleWalletClient(
                    load_service_account(table.service_account_file),
                    self.settings.google_api_url,
                    self.adapter,
                    **extra,
                )
                self._clients[key] = found
        return found

    def ensure_class(self, program: Program) -> None:
        key = (program.id, program.config_hash)
        if key in self._classes:
            return
        table = google_table(program)
        assert table is not None
        config = program_config(program)
        background = config.apple.colours.get("background_color") if config.apple else None
        self.client(program).upsert_class(
            loyalty_class(
                table.issuer_id,
                program.slug,
                {lang: config.name_in(lang) for lang in config.languages},
                config.locale,
                f"{self.settings.public_url}/p/{program.slug}/logo.png",
                background.hex if background else DEFAULT_BACKGROUND,
            )
        )
        self._classes.add(key)


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
