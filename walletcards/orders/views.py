"""POST /webhooks/<program>/<source>: verify on the raw body, parse, apply in one transaction."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import IntegrityError

from walletcards import metrics, web
from walletcards.errors import ApiError
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import (
    get_program,
    unset_webhook_variables,
    webhook_secrets,
    webhook_shop,
)
from walletcards.orders import intake
from walletcards.orders.events import Delivery, PayloadError, UnknownShop
from walletcards.orders.signatures import SignatureError
from walletcards.orders.sources import SOURCES, Source, parse_delivery

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)
ATTEMPTS = 3  # a unique-key race with a concurrent twin is retried; the retry sees its answer


def _source(name: str) -> Source:
    source = SOURCES.get(name)
    if source is None:
        raise ApiError(
            404, "unknown_source", f"no webhook source {name!r}; use one of {', '.join(SOURCES)}"
        )
    return source


def _enabled(program: Program, source: Source) -> tuple[list[str], str | None]:
    """The source's secrets and pinned shop; 404 when it cannot accept deliveries."""
    secrets = webhook_secrets(program, source.name)
    if not secrets and (unset := unset_webhook_variables(program, source.name)):
        # the server's misconfiguration, not the shop's: 503, so the shop retries
        raise ApiError(
            503,
            "secret_not_set",
            f"programme {program.slug!r}: the {source.name} secret is read from the environment "
            f"variable {unset[0]}, which is not set on this server",
        )
    if not secrets:
        raise ApiError(
            404,
            "source_not_enabled",
            f"programme {program.slug!r} has no {source.name} secret configured",
        )
    shop = webhook_shop(program, source.name)
    if source.pin_key is not None and shop is None:
        # a document applied before pins existed: refuse rather than trust the shop header
        key, name = source.pin_key, source.name
        log.error(
            "programme %r: %s deliveries refused, webhooks.%s is not set", program.slug, name, key
        )
        raise ApiError(
            404,
            "source_not_enabled",
            f"programme {program.slug!r} pins no {name} shop: set webhooks.{key} "
            "and apply the programme file again",
        )
    return secrets, shop


def _verify_and_parse(source: Source, program: Program, body: bytes, now: float) -> Delivery:
    secrets, shop = _enabled(program, source)
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        verified = source.verify(headers, body, secrets, now)
    except SignatureError as exc:
        raise ApiError(401, "invalid_signature", str(exc)) from exc
    try:
        return parse_delivery(source, verified, program.currency, shop)
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
    database, settings, clients = web.database(), web.settings(), web.clients()
    now = clients.clock.now()
    ctx = intake.Context(public_url=settings.public_url, now=now)
    for attempt in range(ATTEMPTS):
        try:
            with database.transaction() as session:
                program = get_program(session, slug)
                delivery = _verify_and_parse(adapter, program, body, now.timestamp())
                answer: dict[str, Any] = intake.receive(session, program, delivery, body, ctx)
            metrics.webhook_delivery(source, answer["status"])
            return jsonify(answer), 200
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
