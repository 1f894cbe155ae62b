"""Apple's PassKit web service under /passkit/v1/ (the device appends ``v1/`` to the pass's
``webServiceURL``). Status codes and bodies as Apple specifies (FACTS: Apple Wallet):
register 201/200/401, unregister 200/401, serials since a tag 200/204 with ``lastUpdated`` as
a string, latest pass 200/304 with Last-Modified (HEAD too), log 200. The latest pass is the
storm after a broadcast: two queries and one UPDATE, a 304 after the first, and at most
PASS_BUILDS at once per process (then 503 with Retry-After; docs/messages.md).

Every path parameter and body is checked for shape and size before it reaches the database
(:mod:`walletcards.apple.identifiers`): a malformed device library identifier or push token
is a 400, a malformed pass type or serial the same 401 as an unknown one, an unreadable
``passesUpdatedSince`` tag means "no tag". The log endpoint, the only one open to anyone, is
bounded per request and rate-limited per client address and in total (413 / 429, nothing
stored).
"""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from flask import Blueprint, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards import web
from walletcards.apple.identifiers import (
    device_ok,
    pass_type_ok,
    push_token_ok,
    serial_ok,
    tag_cutoff,
)
from walletcards.apple.models import AppleLog, AppleRegistration
from walletcards.apple.pass_lookup import BuildLimit, card_by_serial, programs_for
from walletcards.apple.passes import render_pass
from walletcards.apple.pkpass import MEDIA_TYPE
from walletcards.apple.throttle import TokenBuckets, client_key
from walletcards.db import lock_names
from walletcards.errors import ApiError, error_response
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.messages.delivery import mark_fetched
from walletcards.web import json_object

bp = Blueprint("passkit", __name__, url_prefix="/passkit/v1")
MAX_REGISTRATION_BYTES = 4096  # {"pushToken": "<at most 200 hex characters>"}, generously
MAX_LOG_BYTES = 16 * 1024
MAX_LOG_MESSAGES = 20
MAX_LOG_MESSAGE_CHARS = 1000
LOG_CLIENT_BURST, LOG_CLIENT_PER_SECOND = 10, 10 / 3600  # per address: 10, then 10 an hour
LOG_TOTAL_BURST, LOG_TOTAL_PER_SECOND = 100, 6 / 60  # everyone together: 100, then 6 a minute
_DUMMY_TOKEN = "x" * 32  # compared against when no card matched, so timing reveals nothing
_LOG_LIMITS = "walletcards.passkit_log_limits"
_BUILD_LIMIT = "walletcards.passkit_build_limit"
PASS_BUILDS = 8  # passes built at once per process (gunicorn threads beyond this wait)
PASS_WAIT = 5.0  # seconds a pass GET waits for a slot before 503
PASS_RETRY_AFTER = 10  # seconds, the 503's Retry-After


@bp.record_once
def _log_limits(state: BlueprintSetupState) -> None:
    """The device log's buckets: per app, so every app (and test) starts afresh."""
    state.app.extensions[_LOG_LIMITS] = (
        TokenBuckets(LOG_CLIENT_BURST, LOG_CLIENT_PER_SECOND),
        TokenBuckets(LOG_TOTAL_BURST, LOG_TOTAL_PER_SECOND, max_keys=1),
    )
    state.app.extensions[_BUILD_LIMIT] = BuildLimit(PASS_BUILDS, PASS_WAIT, PASS_RETRY_AFTER)


def _authorised_card(session: Session, ptid: str, serial: str) -> Card:
    return _authorised(session, ptid, serial)[0]


def _authorised(session: Session, ptid: str, serial: str) -> tuple[Card, Program, Customer | None]:
    """The card, its programme and customer (one query), if the ``Authorization: ApplePass
    <token>`` header matches; 401 otherwise, the same answer whether the serial exists or not
    (or could not exist: a malformed serial or pass type costs no query)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    found = None
    if pass_type_ok(ptid) and serial_ok(serial):
        found = card_by_serial(session, ptid, serial)
    expected = found[0].auth_token if found is not None else _DUMMY_TOKEN
    matches = hmac.compare_digest(token.strip().encode(), expected.encode())
    if scheme != "ApplePass" or found is None or not matches:
        raise ApiError(401, "unauthorized", "the pass's authentication token does not match")
    return found


def _tag(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1_000_000))


def _check_device(device: str) -> None:
    if not device_ok(device):
        raise ApiError(
            400, "bad_request", "the device library identifier must be 1-128 letters or digits"
        )


def _body(limit: int) -> bytes:
    """The request body, refused with 413 beyond ``limit`` bytes (read no further)."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "request_entity_too_large", f"the body may hold {limit} bytes")
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "request_entity_too_large", f"the body may hold {limit} bytes")
    return data


@bp.post("/devices/<device>/registrations/<ptid>/<serial>")
def register(device: str, ptid: str, serial: str) -> tuple[Response, int]:
    """201 for a new registration, 200 when the device had registered this pass already (its
    push token updated). Identical registrations racing each other serialise on a lock, so
    the second sees the first's row instead of failing on the unique key."""
    _check_device(device)
    raw = _body(MAX_REGISTRATION_BYTES)
    with web.database().transaction() as session:
        card = _authorised_card(session, ptid, serial)
        body = json_object(raw)
        token = body.get("pushToken") if body is not None else None
        if not push_token_ok(token):
            raise ApiError(
                400,
                "bad_request",
                'the body must be {"pushToken": "<device token: 16-200 hex characters>"}',
            )
        lock_names(session, [f"apple-registration:{card.id}:{device}"])
        now = web.clock().now()
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
    _check_device(device)
    with web.database().transaction() as session:
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
    """Every pass of this device changed after the tag (all of them without a tag, or with one
    we cannot read: see :func:`~walletcards.apple.identifiers.tag_cutoff`)."""
    _check_device(device)
    if not pass_type_ok(ptid):
        raise ApiError(400, "bad_request", "the pass type identifier is malformed")
    cutoff = tag_cutoff(request.args.get("passesUpdatedSince", ""))
    with web.database().transaction() as session:
        programs = programs_for(session, ptid)
        query = (
            select(Card.serial, Card.updated_at)
            .join(AppleRegistration, AppleRegistration.card_id == Card.id)
            .where(AppleRegistration.device_library_id == device, Card.program_id.in_(programs))
        )
        rows = session.execute(query).all()
    if cutoff is not None:
        rows = [row for row in rows if row.updated_at > cutoff]
    if not rows:
        return Response(status=204), 204
    latest = max(row.updated_at for row in rows)
    return jsonify(
        {"serialNumbers": sorted(r.serial for r in rows), "lastUpdated": _tag(latest)}
    ), 200


@bp.route("/passes/<ptid>/<serial>", methods=["GET", "HEAD"])
def latest_pass(ptid: str, serial: str) -> Response | tuple[Response, int]:
    """The pass (one query for the card, one for its face, one UPDATE for the proof), or 304
    when the phone's copy is current (one query, nothing rendered). At most PASS_BUILDS
    requests per process do this at once; the rest wait up to PASS_WAIT seconds, then get
    503 with Retry-After (Wallet tries again later)."""
    limit: BuildLimit = current_app.extensions[_BUILD_LIMIT]
    with limit.slot() as held:
        if not held:
            answer, status = error_response(
                503, "busy", "too many passes are being built; try again shortly"
            )
            answer.headers["Retry-After"] = str(limit.retry_after)
            return answer, status
        return _latest_pass(ptid, serial)


def _latest_pass(ptid: str, serial: str) -> Response:
    settings = web.settings()
    # each statement commits on its own (PostgreSQL): two reads and one UPDATE need no
    # BEGIN / COMMIT round trips (Database.statements)
    with web.database().statements() as session:
        card, program, _customer = _authorised(session, ptid, serial)  # held: no queries
        modified = card.updated_at.replace(microsecond=0)
        since = request.headers.get("If-Modified-Since")
        if since:
            try:
                if modified <= parsedate_to_datetime(since):
                    return Response(status=304, headers={"Last-Modified": _http_date(modified)})
            except (TypeError, ValueError):
                pass  # an unreadable date: send the pass
        now = web.clock().now()
        chunks = render_pass(
            session, program, card, settings.public_url, settings.secret_key.reveal(), now
        )
        if request.method == "GET":  # the phone has this version: the proof of its messages
            # the proof need not wait for the disk: a database crash may lose the last
            # fraction of a second of fetches (the phone has the pass either way)
            mark_fetched(session, card.id, card.version, now, durable=False)
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
    """Devices' error messages. Open to anyone (Apple sends no credentials), so: the client's
    address and everyone together are rate-limited before the body is read (429), the body is
    bounded (413), and at most MAX_LOG_MESSAGES messages of MAX_LOG_MESSAGE_CHARS characters
    each are kept (the rest dropped). NUL, which PostgreSQL refuses, becomes U+FFFD."""
    per_client, everyone = current_app.extensions[_LOG_LIMITS]
    moment = web.clock().now().timestamp()
    if not per_client.take(client_key(request.remote_addr), moment) or not everyone.take(
        "*", moment
    ):
        raise ApiError(429, "too_many_requests", "too many device logs; try again later")
    body = json_object(_body(MAX_LOG_BYTES))
    messages = body.get("logs") if body is not None else None
    if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
        raise ApiError(400, "bad_request", 'the body must be {"logs": ["..."]}')
    kept = [
        m[:MAX_LOG_MESSAGE_CHARS].replace("\x00", "\ufffd") for m in messages[:MAX_LOG_MESSAGES]
    ]
    with web.database().transaction() as session:
        now = web.clock().now()
        for message in kept:
            session.add(AppleLog(received_at=now, message=message))
    current_app.logger.info("PassKit device log: %s", json.dumps(kept[:5])[:500])
    return jsonify({}), 200
