"""Helpers for the sign-up page's tests: the form's token, a whole sign-up, what was written,
and the emails the outbox worker would send."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.fakes.memory import MemoryMailer
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.member_models import Consent
from walletcards.loyalty.models import Card, Customer
from walletcards.outbound.delivery import deliver_emails
from walletcards.outbound.models import OutboxEmail
from walletcards.settings import Settings

JOIN = {"terms_url": "https://shop.example/terms", "terms_version": "2026-03"}
FORM_TOKEN = re.compile(r'name="form" value="([^"]+)"')


def form_of(response: TestResponse) -> str:
    found = FORM_TOKEN.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:500]
    return found.group(1)


def fields(**changes: Any) -> dict[str, str]:
    """A complete, valid sign-up (``None`` leaves a field out)."""
    base = {"name": "Ann Lee", "email": "ann@example.com", "terms": "yes", "language": "en"}
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def sign_up(
    client: FlaskClient,
    slug: str = "demo",
    query: str = "",
    address: str = "127.0.0.1",
    **changes: Any,
) -> TestResponse:
    """GET the form (for its token), then POST it filled in."""
    environ = {"REMOTE_ADDR": address}
    page = client.get(f"/join/{slug}{query}", environ_base=environ)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    data = {"form": form_of(page), **fields(**changes)}
    return client.post(f"/join/{slug}", data=data, environ_base=environ)


def rows(database: Database) -> tuple[int, int, int, int]:
    """(customers, cards, consents, outbox emails): what a refused sign-up leaves unchanged."""
    models = (Customer, Card, Consent, OutboxEmail)
    counted = [select(func.count()).select_from(model).scalar_subquery() for model in models]
    with database.transaction() as session:
        customers, cards, consents, emails = session.execute(select(*counted)).one()
    return customers, cards, consents, emails


def send_emails(database: Database, settings: Settings, clock: FixedClock) -> list[EmailMessage]:
    """What the worker's outbox step sends now."""
    mailer = MemoryMailer()
    deliver_emails(database, settings, mailer, clock.now())
    return mailer.sent


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def link_in(message: EmailMessage) -> str:
    """The confirmation link of a confirmation email, as a path."""
    found = re.search(r"https://cards\.example\.com(/join/[^\s]+/confirm/[^\s]+)", text_of(message))
    assert found, text_of(message)
    return found.group(1)
