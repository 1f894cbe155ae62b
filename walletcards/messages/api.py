"""The owner's messages API (managers) under /api/v1/programs/<slug>/messages:

- ``POST`` schedules a message (``Idempotency-Key``; 201 with its id, status, audience size);
- ``GET`` lists the latest messages, ``GET /<id>`` one with its delivery figures;
- ``POST /<id>/cancel`` cancels one not yet being sent (``Idempotency-Key``).

The sending is the scheduled job's (walletcards/messages/sending.py); docs/messages.md.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy.orm import Session

from walletcards import web
from walletcards.admin.inputs import check_request
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_config
from walletcards.messages import service
from walletcards.messages.inputs import read_message
from walletcards.staff.models import Staff

bp = Blueprint("messages_api", __name__, url_prefix="/api/v1/programs/<slug>/messages")
bp.before_request(check_request)


@bp.post("")
def create(slug: str) -> tuple[Response, int]:
    def run(
        session: Session, staff: Staff, program: Program, body: dict[str, Any], key: str
    ) -> dict[str, Any]:
        web.require_own_manager(staff, program, slug)
        now = web.clock().now()
        given = read_message(body, program_config(program), now)
        message = service.create(session, program, given, now)
        return {"message": service.summary(message)}

    return web.idempotent_write("message.create", run, status=201)


@bp.get("")
def index(slug: str) -> tuple[Response, int]:
    with web.database().transaction() as session:
        staff, program = web.staff_member(session)
        web.require_own_manager(staff, program, slug)
        answer = {"messages": service.listing(session, program)}
    return jsonify(answer), 200


@bp.get("/<message_id>")
def show(slug: str, message_id: str) -> tuple[Response, int]:
    with web.database().transaction() as session:
        staff, program = web.staff_member(session)
        web.require_own_manager(staff, program, slug)
        message = service.find(session, program, message_id)
        answer = {"message": service.summary(message), **service.figures(session, message)}
    return jsonify(answer), 200


@bp.post("/<message_id>/cancel")
def cancel(slug: str, message_id: str) -> tuple[Response, int]:
    def run(
        session: Session, staff: Staff, program: Program, body: dict[str, Any], key: str
    ) -> dict[str, Any]:
        web.require_own_manager(staff, program, slug)
        message = service.find(session, program, message_id, lock=True)
        service.cancel(session, message, web.clock().now())
        return {"message": service.summary(message)}

    return web.idempotent_write("message.cancel", run)
