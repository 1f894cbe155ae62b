"""Apple's PassKit web service under /passkit/v1/ (the device appends ``v1/`` to the pass's
``webServiceURL``). Status codes and bodies as Apple specifies (FACTS: Apple Wallet):
register 201/200/401, unregister 200/401, serials since a tag 200/204 with ``lastUpdated`` as
a string, latest pass 200/304 with Last-Modified (HEAD too), log 200.
"""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.apple.models import AppleLog, AppleRegistration
from walletcards.apple.passes import pass_type_identifier, render_pass
from walletcards.apple.pkpass import MEDIA_TYPE
from walletcards.clients import Clients
from walletcards.db import Database
from walletcards.errors import ApiError
from walletcards.jsonbody import json_object
from walletcards.loyalty.models import Card, Program
from walletcards.settings import Settings

bp = Blueprint("passkit", __name__, url_prefix="/passkit/v1")
MAX_LOG_MESSAGES = 50
MAX_LOG_MESSAGE_CHARS = 2000
MAX_PUSH_TOKEN = 256
MAX_DEVICE_ID = 128
_DUMMY_TOKEN = "x" * 32  # compared against when no card matched, so timing reveals nothing


def _now() -> datetime:
    clients: Clients = current_app.extensions["walletcards.clients"]
    return clients.clock.now()


def _database() -> Database:
    database: Database = current_app.extensions["walletcards.db"]
    return database


def _programs_for(session: Session, ptid: str) -> list[int]:
    programs = session.execute(select(Program)).scalars()
    return [p.id for p in programs if pass_type_identifier(p) == ptid]


def _authorised_card(session: Session, ptid: str, serial: str) -> Card:
    """The card, if the ``Authorization: ApplePass <token>`` header matches; 401 otherwise,
    the same answer whether the serial exists or not."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    programs = _programs_for(session, ptid)  # always: the same queries whatever is asked
    card = session.execute(
        select(Card).where(Card.serial == serial[:64], Card.program_id.in_(programs))
    ).scalar_one_or_none()
    if card is not None and card.serial != serial:
        card = None
    expected = card.auth_token if card is not None else _DUMMY_TOKEN
    matches = hmac.compare_digest(token.strip().encode(), expected.encode())
    if scheme != "ApplePass" or card is None or not matches:
        raise ApiError(401, "unauthorized", "the pass's authentication token does not match")
    return card


def _tag(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1_000_000))


@bp.post("/devices/<device>/registrations/<ptid>/<serial>")
def register(device: str, ptid: str, serial: str) -> tuple[Response, int]:
    with _database().transaction() as session:
        card = _authorised_card(session, ptid, serial)
        body = json_object(request.get_data())
        token = body.get("pushToken") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or len(token) > MAX_PUSH_TOKEN:
            raise ApiError(400, "bad_request", 'the body must be {"pushToken": "<token>"}')
        if len(device) > MAX_DEVICE_ID:
            raise ApiError(400, "bad_request", "the device library identifier is too long")
        now = _now()
        existing = session.execute(
            select(AppleRegistration).where(
                AppleRegistration.device_library_id == device, AppleRegistration.card_id == card.id
            )
        ).scalar_one_or_none()
        if existing is not None:
            existing.push_token, existing.updated_at = token, now
            return jsonify({}), 200
        session.add(
            AppleRegistration(
                card_id=card.id,
                device_library_id=device,
                push_token=token,
                created_at=now,
                updated_at=now,
            )
        )
    return jsonify({}), 201


@bp.delete("/devices/<device>/registrations/<ptid>/<serial>")
def unregister(device: str, ptid: str, serial: str) -> tuple[Response, int]:
    with _database().transaction() as session:
        card = _authorised_card(session, ptid, serial)
        registration = session.execute(
            select(AppleRegistration).where(
                AppleRegistration.device_library_id == device, AppleRegistration.card_id == card.id
            )
        ).scalar_one_or_none()
        if registration is not None:
            session.delete(registration)
    return jsonify({}), 200


@bp.get("/devices/<device>/registrations/<ptid>")
def serials(device: str, ptid: str) -> tuple[Response, int]:
    """Every pass of this device changed after the tag (all of them without a tag)."""
    since = request.args.get("passesUpdatedSince", "")
    if since and not since.isdigit():
        raise ApiError(400, "bad_request", "passesUpdatedSince must be a tag we gave out")
    with _database().transaction() as session:
        programs = _programs_for(session, ptid)
        query = (
            select(Card.serial, Card.updated_at)
            .join(AppleRegistration, AppleRegistration.card_id == Card.id)
            .where(AppleRegistration.device_library_id == device, Card.program_id.in_(programs))
        )
        rows = session.execute(query).all()
    if since:
        cutoff = datetime.fromtimestamp(int(since) / 1_000_000, UTC)
        rows = [row for row in rows if row.updated_at > cutoff]
    if not rows:
        return Response(status=204), 204
    latest = max(row.updated_at for row in rows)
    return jsonify(
        {"serialNumbers": sorted(r.serial for r in rows), "lastUpdated": _tag(latest)}
    ), 200


@bp.route("/passes/<ptid>/<serial>", methods=["GET", "HEAD"])
def latest_pass(ptid: str, serial: str) -> Response:
    settings: Settings = current_app.extensions["walletcards.settings"]
    with _database().transaction() as session:
        card = _authorised_card(session, ptid, serial)
        modified = card.updated_at.replace(microsecond=0)
        since = request.headers.get("If-Modified-Since")
        if since:
            try:
                if modified <= parsedate_to_datetime(since):
                    return Response(status=304, headers={"Last-Modified": _http_date(modified)})
            except (TypeError, ValueError):
                pass  # an unreadable date: send the pass
        program = session.get(Program, card.program_id)
        assert program is not None
        chunks = render_pass(
            session, program, card, settings.public_url, settings.secret_key.reveal(), _now()
        )
    return Response(
        chunks,
        mimetype=MEDIA_TYPE,
        headers={"Last-Modified": _http_date(modified), "Content-Length": _length(chunks)},
    )


def _length(chunks: list[bytes]) -> str:
    return str(sum(len(chunk) for chunk in chunks))


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


@bp.post("/log")
def device_log() -> tuple[Response, int]:
    body = json_object(request.get_data())
    messages = body.get("logs") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
        raise ApiError(400, "bad_request", 'the body must be {"logs": ["..."]}')
    with _database().transaction() as session:
        now = _now()
        for message in messages[:MAX_LOG_MESSAGES]:
            session.add(AppleLog(received_at=now, message=message[:MAX_LOG_MESSAGE_CHARS]))
    current_app.logger.info("PassKit device log: %s", json.dumps(messages[:5])[:500])
    return jsonify({}), 200
