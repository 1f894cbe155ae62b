"""What every blueprint shares about the request it serves.

Typed accessors for what ``create_app`` put in ``app.extensions`` (the database, the settings,
the injectable clients and their clock); a JSON body as one object, never an exception; the
staff member a request comes from (an API token, or the till's and the dashboard's browser
session plus its CSRF token) and the role checks; the idempotent write (a retry with the same
``Idempotency-Key`` and body gets the first answer); and the card as the staff APIs show it.
Refusals are :class:`walletcards.errors.ApiError` (the one error shape lives there).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from walletcards.cardface import card_face
from walletcards.cashier.models import TillRequest
from walletcards.clients import Clients
from walletcards.clock import Clock
from walletcards.db import Database
from walletcards.errors import ApiError
from walletcards.loyalty.models import Card, Program
from walletcards.money import money_json
from walletcards.settings import Settings
from walletcards.staff import sessions as staff_session
from walletcards.staff.accounts import staff_for_token
from walletcards.staff.models import INTEGRATION, Staff

ATTEMPTS = 3  # a write that lost a race on a unique key runs again and finds the winner's answer
MAX_KEY = 128  # keeps "till:<staff id>:<key>" and "till:<slug>:order:<id>:earn" under 255
_KEY = re.compile(rf"[\x20-\x7e]{{1,{MAX_KEY}}}")  # printable ASCII
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

Write = Callable[[Session, Staff, Program, dict[str, Any], str], dict[str, Any]]


def database() -> Database:
    found: Database = current_app.extensions["walletcards.db"]
    return found


def settings() -> Settings:
    found: Settings = current_app.extensions["walletcards.settings"]
    return found


def clients() -> Clients:
    found: Clients = current_app.extensions["walletcards.clients"]
    return found


def clock() -> Clock:
    return clients().clock


def json_object(raw: bytes) -> dict[str, Any] | None:
    """The body's JSON object, or None for anything else (bad UTF-8, bad JSON, too deep, an
    integer too long to convert). ``json.loads`` raises RecursionError (not a ValueError) on
    deeply nested input such as a megabyte of ``[``, and a plain ValueError on an integer of
    more than ``sys.get_int_max_str_digits()`` digits; Flask's ``get_json(silent=True)`` lets
    both through as a 500."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError included
        return None
    return data if isinstance(data, dict) else None


def json_body() -> dict[str, Any]:
    """The request's JSON object (400 otherwise) with only storable text in it (422)."""
    raw = request.get_data()  # over MAX_CONTENT_LENGTH: 413, before any parsing
    data = json_object(raw)
    if data is None:
        raise ApiError(400, "malformed_json", "the body must be a JSON object")
    check_strings(data)
    return data


def check_strings(data: Any) -> None:
    """Refuses a body with NUL (PostgreSQL text cannot hold it) or an unpaired surrogate (UTF-8
    cannot encode it) in any string or key, however deep; both arrive as JSON ``\\u`` escapes."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                raise ApiError(
                    422,
                    "invalid_text",
                    "text must not contain NUL characters or unpaired UTF-16 surrogates",
                )
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def idempotency_key(header: str | None) -> str:
    """The write's ``Idempotency-Key``: required, printable ASCII, short enough that every
    ledger key built from it fits its column."""
    key = (header or "").strip()
    if not key:
        raise ApiError(
            400,
            "idempotency_key_required",
            "writes need an Idempotency-Key header (made before the first attempt)",
        )
    if not _KEY.fullmatch(key):
        raise ApiError(
            400,
            "invalid_idempotency_key",
            f"Idempotency-Key: 1 to {MAX_KEY} printable ASCII characters (a UUID fits)",
        )
    return key


def staff_member(session: Session, *, integration: bool = False) -> tuple[Staff, Program]:
    """Bearer token (a POS), or the page's session cookie plus its CSRF token on every call.
    An integration account is refused (403) unless the view says it serves one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    staff = staff_for_token(session, token.strip()) if scheme == "Bearer" and token else None
    if staff is None and not token:
        signed_in = staff_session.signed_in(session, clock().now())
        if signed_in is not None:
            if not staff_session.csrf_ok(request.headers.get("X-CSRF-Token")):
                raise ApiError(403, "csrf", "missing or wrong X-CSRF-Token; reload the page")
            staff, _ = signed_in
    if staff is None:
        raise ApiError(401, "unauthorized", "sign in, or send Authorization: Bearer <token>")
    if staff.role == INTEGRATION and not integration:
        raise ApiError(
            403, "forbidden", "an integration account reads customers and manages redemptions only"
        )
    program = session.get(Program, staff.program_id)
    assert program is not None
    return staff, program


def require_manager(staff: Staff) -> None:
    """403 for a cashier: the owner's API, the dashboard's exports."""
    if not staff.is_manager:
        raise ApiError(403, "forbidden", "this needs a manager or admin account")


def require_program(program: Program, slug: str) -> None:
    """404 unless ``slug`` names the account's own programme (an account serves one)."""
    if program.slug != slug:
        raise ApiError(404, "unknown_program", f"no programme {slug[:63]!r} for this account")


def require_own_manager(staff: Staff, program: Program, slug: str) -> None:
    """The owner's API under /api/v1/programs/<slug>/: its programme, a manager or admin."""
    require_program(program, slug)
    require_manager(staff)


KEY_REUSED = ("idempotency_conflict", "this Idempotency-Key was used for another request")


def stored_answer(
    session: Session, staff: Staff, key: str, digest: str, reused: tuple[str, str]
) -> TillRequest | None:
    """The answer ``staff`` got under idempotency ``key``, or None; a 409 with ``reused``
    (code, message) when the key came with another request (``digest``)."""
    earlier = session.execute(
        select(TillRequest).where(
            TillRequest.staff_id == staff.id, TillRequest.idempotency_key == key
        )
    ).scalar_one_or_none()
    if earlier is not None and earlier.request_hash != digest:
        raise ApiError(409, *reused)
    return earlier


def idempotent_write(
    action: str, run: Write, *, status: int = 200, integration: bool = False
) -> tuple[Response, int]:
    """Runs a write once per (staff, Idempotency-Key); a retry gets the stored answer.
    ``status``: the answer's status; ``integration``: an integration account may call it.

    The key's record is inserted before the write runs: a concurrent twin blocks on its unique
    index until the first commits, then fails, runs again and answers with the stored answer
    (if the first rolled back, the twin's insert goes through and it does the work instead).
    The same key with another body (or action) is a conflict.
    """
    key = idempotency_key(request.headers.get("Idempotency-Key"))
    body = json_body()
    digest = hashlib.sha256(json.dumps([action, body], sort_keys=True).encode()).hexdigest()
    for _ in range(ATTEMPTS):
        try:
            with database().transaction() as session:
                staff, program = staff_member(session, integration=integration)
                earlier = stored_answer(session, staff, key, digest, KEY_REUSED)
                if earlier is not None:
                    return jsonify(earlier.response), earlier.status
                claim = TillRequest(
                    staff_id=staff.id,
                    idempotency_key=key,
                    request_hash=digest,
                    status=0,  # set below; never committed as 0 (one transaction)
                    response={},
                    created_at=clock().now(),
                )
                session.add(claim)
                session.flush()  # a concurrent twin with this key waits here
                answer = run(session, staff, program, body, key)
                claim.status, claim.response = status, answer
            return jsonify(answer), status
        except IntegrityError:
            continue  # a concurrent twin (or same receipt) committed first: look again
    raise ApiError(409, "idempotency_conflict", "this request is being processed; retry")


def money_answer(minor: int | None, currency: str) -> dict[str, str] | None:
    return None if minor is None else money_json(minor, currency)


def card_answer(session: Session, program: Program, card: Card, **extra: Any) -> dict[str, Any]:
    """A card as the till's and the owner's API answer it (its face at now), plus ``extra``."""
    face = card_face(session, program, card, clock().now(), settings().secret_key.reveal())
    return {
        "customer": {"name": face.customer_name, "member_number": face.member_number},
        "tier": face.tier,
        "balance": {"available": face.available, "pending": face.pending},  # settled at now
        # what the available points are worth at [redemption] point_value; null without one
        "value": money_answer(face.value_minor, program.currency),
        "expiring": face.expiring,
        "next_tier": face.next_tier,
        "reward_progress": face.reward_progress,
        **extra,
    }
