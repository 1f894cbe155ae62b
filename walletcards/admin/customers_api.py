"""A customer's data rights over the owner's API (the command line has the same,
`walletcards customer export|erase`):

- ``GET /api/v1/programs/<slug>/customers/<member>/export``: everything kept about the member
  (walletcards/rights/export.py), for a manager or an admin;
- ``POST /api/v1/programs/<slug>/customers/<member>/erasure``: erase their personal data
  (walletcards/rights/erasure.py), admins only, with an ``Idempotency-Key``; the body is
  ``{}``. Erasing again answers as the first time did.

``<member>`` is the card's member number. Cashiers and integration accounts get 403.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy.orm import Session

from walletcards import web
from walletcards.admin.inputs import check_request
from walletcards.errors import ApiError
from walletcards.loyalty.models import Customer, Program
from walletcards.rights.erasure import erase
from walletcards.rights.export import export_customer
from walletcards.rights.people import by_member_number
from walletcards.staff.models import Staff

bp = Blueprint("admin_customers", __name__, url_prefix="/api/v1/programs/<slug>/customers")
bp.before_request(check_request)
ADMIN = "admin"


def _member(session: Session, program: Program, member: str) -> Customer:
    found = by_member_number(session, program, member)
    if found is None:
        raise ApiError(404, "unknown_member", f"no member {member[:20]!r}")
    return found


@bp.get("/<member>/export")
def export(slug: str, member: str) -> tuple[Response, int]:
    with web.database().transaction() as session:
        staff, program = web.staff_member(session)
        web.require_program(program, slug)
        web.require_manager(staff)
        document = export_customer(
            session, program, _member(session, program, member), web.clock().now()
        )
    response = jsonify(document)
    response.headers["Cache-Control"] = "no-store"
    return response, 200


@bp.post("/<member>/erasure")
def erasure(slug: str, member: str) -> tuple[Response, int]:
    def run(
        session: Session, staff: Staff, program: Program, body: dict[str, Any], key: str
    ) -> dict[str, Any]:
        web.require_program(program, slug)
        if staff.role != ADMIN:
            raise ApiError(403, "forbidden", "erasing a customer needs an admin account")
        if body:
            raise ApiError(422, "invalid_body", "the body is {} (an erasure takes no fields)")
        done = erase(
            session,
            program,
            _member(session, program, member).id,
            web.clock().now(),
            actor=staff.actor,
            key=web.settings().secret_key.reveal(),
        )
        return done.as_json()

    return web.idempotent_write("erase", run)
