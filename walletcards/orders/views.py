"""POST /webhooks/<program>/<source>: verify on the raw body, parse, accept into the inbox.

Shopify and WooCommerce: the inbox row in one statement, its own transaction (``INSERT … ON
CONFLICT DO NOTHING`` on the delivery id, orders/accepting.py) and ``200 {"status":
"accepted"}``, a repeat answering the same; an applier applies it soon (orders/applier.py).
Our signed JSON (``orders``): applied in the same transaction, answering its card, while fewer
than ``WALLETCARDS_INLINE_APPLY_BELOW`` deliveries wait for the appliers (and none of its
order); else ``202`` with the delivery's id and the URL to poll (orders/deliveries.py).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from walletcards import metrics, web
from walletcards.errors import ApiError
from walletcards.loyalty.config_tables import WebhooksTable, reveal
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import get_program, program_config
from walletcards.orders import accepting, intake
from walletcards.orders.events import Delivery, PayloadError, UnknownShop
from walletcards.orders.intake import WAITING
from walletcards.orders.models import InboxDelivery
from walletcards.orders.signatures import SignatureError
from walletcards.orders.signed_json import NAME as SIGNED_JSON
from walletcards.orders.sources import SOURCES, Source, parse_delivery

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)
ATTEMPTS = 3  # a unique-key race with a concurrent twin is retried; the retry sees its answer
ACCEPTED = {"status": "accepted"}


class _Twin(Exception):
    """A concurrent twin of this delivery was accepted first: read its row again."""


def _source(name: str) -> Source:
    source = SOURCES.get(name)
    if source is None:
        raise ApiError(
            404, "unknown_source", f"no webhook source {name!r}; use one of {', '.join(SOURCES)}"
        )
    return source


def _enabled(slug: str, webhooks: WebhooksTable, source: Source) -> tuple[list[str], str | None]:
    """The source's secrets and pinned shop; 404 when it cannot accept deliveries."""
    table = webhooks.source(source.name)
    found = (reveal(secret) for secret in (table.secret, table.previous_secret))
    secrets = [secret for secret in found if secret]
    unset = [s.unset_variable() for s in (table.secret, table.previous_secret) if s]
    if not secrets and (variables := [variable for variable in unset if variable]):
        # the server's misconfiguration, not the shop's: 503, so the shop retries
        raise ApiError(
            503,
            "secret_not_set",
            f"programme {slug!r}: the {source.name} secret is read from the environment "
            f"variable {variables[0]}, which is not set on this server",
        )
    if not secrets:
        raise ApiError(
            404,
            "source_not_enabled",
            f"programme {slug!r} has no {source.name} secret configured",
        )
    shop = table.shop if source.pin_key is not None else None
    if source.pin_key is not None and shop is None:
        # a document applied before pins existed: refuse rather than trust the shop header
        key, name = source.pin_key, source.name
        log.error("programme %r: %s deliveries refused, webhooks.%s is not set", slug, name, key)
        raise ApiError(
            404,
            "source_not_enabled",
            f"programme {slug!r} pins no {name} shop: set webhooks.{key} "
            "and apply the programme file again",
        )
    return secrets, shop


def _verify_and_parse(
    source: Source, slug: str, webhooks: WebhooksTable, currency: str, body: bytes, now: float
) -> Delivery:
    secrets, shop = _enabled(slug, webhooks, source)
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        verified = source.verify(headers, body, secrets, now)
    except SignatureError as exc:
        raise ApiError(401, "invalid_signature", str(exc)) from exc
    try:
        return parse_delivery(source, verified, currency, shop)
    except UnknownShop as exc:
        raise ApiError(401, "unknown_shop", str(exc)) from exc
    except PayloadError as exc:
        if exc.field == "body":
            raise ApiError(400, "malformed_json", str(exc)) from exc
        raise ApiError(422, "invalid_payload", str(exc)) from exc


@bp.post("/webhooks/<slug>/<source>")
def receive(slug: str, source: str) -> tuple[Response, int]:
    adapter = _source(source)
    body = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH: 413 before we read it all
    if (ping := adapter.ping(body)) is not None:
        metrics.webhook_delivery(source, "ping")
        return jsonify({"status": "ignored", "card": None, "balance": None, "detail": ping}), 200
    now = web.clients().clock.now()
    if adapter.name == SIGNED_JSON:
        answer, status = _receive_signed(slug, adapter, body, now)
    else:  # Shopify, WooCommerce: the inbox row alone (orders/accepting.py)

        def check(programme: accepting.Programme) -> Delivery:
            webhooks, currency = programme.webhooks, programme.currency
            return _verify_and_parse(adapter, slug, webhooks, currency, body, now.timestamp())

        accepting.accept(web.database(), slug, check, body, now)
        answer, status = ACCEPTED, 200
    metrics.webhook_delivery(source, answer["status"])
    return jsonify(answer), status


def _receive_signed(
    slug: str, adapter: Source, body: bytes, now: datetime
) -> tuple[dict[str, Any], int]:
    database, settings = web.database(), web.settings()
    ctx = intake.Context(public_url=settings.public_url, now=now)
    for attempt in range(ATTEMPTS):
        try:
            with database.transaction() as session:
                program = get_program(session, slug)
                webhooks = program_config(program).webhooks
                delivery = _verify_and_parse(
                    adapter, slug, webhooks, program.currency, body, now.timestamp()
                )
                return _signed(session, program, delivery, body, ctx)
        except (IntegrityError, _Twin):
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _signed(
    session: Session, program: Program, delivery: Delivery, body: bytes, ctx: intake.Context
) -> tuple[dict[str, Any], int]:
    """Our signed JSON: applied now (200 and its card) while the appliers' backlog is short,
    else accepted (202 and where to poll)."""
    earlier = intake.stored(session, program.id, delivery.source, delivery.delivery_id)
    if earlier is not None:
        if earlier.response is None:  # still waiting (or parked): poll it
            return accepted_answer(ctx.public_url, program.slug, earlier.id), 202
        return intake.duplicate_answer(earlier), 200
    inline = delivery.ignored_reason is not None or (
        not _busy(session, web.settings().inline_apply_below)
        and not intake.order_waiting(session, program, delivery)
    )
    if inline:  # (one the adapter ignores costs nothing to answer now)
        return intake.receive(session, program, delivery, body, ctx), 200
    row_id = intake.accept(session, program, delivery, body, ctx.now)
    if row_id is None:
        raise _Twin
    return accepted_answer(ctx.public_url, program.slug, row_id), 202


def _busy(session: Session, below: int) -> bool:
    """Whether ``below`` or more deliveries wait for the appliers (counting no further)."""
    if below <= 0:
        return True
    waiting = select(InboxDelivery.id).where(InboxDelivery.outcome == WAITING).limit(below)
    count = session.execute(select(func.count()).select_from(waiting.subquery())).scalar_one()
    return bool(count >= below)


def accepted_answer(public_url: str, slug: str, row_id: int) -> dict[str, Any]:
    url = f"{public_url}/api/v1/programs/{slug}/deliveries/{row_id}"
    return {
        "status": "accepted",
        "card": None,
        "balance": None,
        "delivery": {"id": row_id, "url": url},
    }
