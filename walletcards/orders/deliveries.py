"""GET /api/v1/programs/<slug>/deliveries/<id>: what became of an accepted delivery.

Our signed-JSON webhook answers ``202 {"status": "accepted", "delivery": {"id", "url"}}`` when
the appliers have a backlog; the sender polls ``url`` until the status is no longer
``accepted``, then has the answer the synchronous path gives (status, card, balance).

Who may read it:
- the sender, with the programme's ``orders`` secret (current or previous): header
  ``Walletcards-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<path>">``, the webhook's own
  scheme with the request path (``/api/v1/programs/<slug>/deliveries/<id>``) in place of the
  body, 5-minute tolerance; it reads deliveries of the ``orders`` source only;
- a manager or an integration account of the programme (``Authorization: Bearer <token>`` or
  the dashboard's session), any source's delivery.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session

from walletcards import web
from walletcards.admin.inputs import check_request
from walletcards.errors import ApiError
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import get_program, webhook_secrets
from walletcards.orders.intake import PARKED, WAITING
from walletcards.orders.models import InboxDelivery
from walletcards.orders.signatures import SignatureError, verify_timestamped
from walletcards.orders.signed_json import NAME as SIGNED_JSON
from walletcards.orders.signed_json import SIGNATURE_HEADER
from walletcards.staff.models import INTEGRATION

bp = Blueprint("deliveries", __name__, url_prefix="/api/v1/programs/<slug>")
bp.before_request(check_request)
MAX_ID = 2**63 - 1


def _authorised(session: Session, slug: str) -> tuple[Program, str | None]:
    """The programme and the one source the caller may read (None: every source)."""
    if request.headers.get(SIGNATURE_HEADER) is not None:
        program = get_program(session, slug)
        secrets = webhook_secrets(program, SIGNED_JSON)
        now = web.clock().now().timestamp()
        try:
            if not secrets:
                raise SignatureError("the programme has no orders secret")
            verify_timestamped(
                request.headers.get(SIGNATURE_HEADER), request.path.encode(), secrets, now
            )
        except SignatureError as exc:
            raise ApiError(401, "invalid_signature", str(exc)) from exc
        return program, SIGNED_JSON
    staff, program = web.staff_member(session, integration=True)
    web.require_program(program, slug)
    if staff.role != INTEGRATION:
        web.require_manager(staff)
    return program, None


def delivery_answer(row: InboxDelivery, public_url: str, slug: str) -> dict[str, Any]:
    """The poll's answer: accepted / parked while not applied, else the recorded answer."""
    delivery = {
        "id": row.id,
        "url": f"{public_url}/api/v1/programs/{slug}/deliveries/{row.id}",
        "source": row.source,
        "outcome": row.outcome,
        "attempts": row.attempts,
        "received_at": row.received_at.isoformat(),
        "applied_at": row.applied_at.isoformat() if row.applied_at else None,
    }
    if row.outcome in (WAITING, PARKED) or row.response is None:
        status = row.outcome if row.outcome in (WAITING, PARKED) else "ignored"
        return {"status": status, "card": None, "balance": None, "delivery": delivery}
    return {**row.response, "delivery": delivery}


@bp.get("/deliveries/<ident>")
def delivery(slug: str, ident: str) -> tuple[Response, int]:
    row_id = int(ident) if ident.isascii() and ident.isdigit() and len(ident) <= 19 else None
    with web.database().transaction() as session:
        program, source = _authorised(session, slug)
        row = session.get(InboxDelivery, row_id) if row_id and row_id <= MAX_ID else None
        if row is None or row.program_id != program.id or source not in (None, row.source):
            raise ApiError(404, "unknown_delivery", f"no delivery {ident[:40]!r} here")
        answer = delivery_answer(row, web.settings().public_url, program.slug)
    return jsonify(answer), 200
