"""The owner's campaigns API (managers and admins) under /api/v1/programs/<slug>/campaigns:

- ``GET`` lists the programme's ``[[campaigns]]`` as stored, each with its status, latest
  window and figures (admin/campaign_figures.py);
- ``POST`` adds one (the body: a campaign table as the programme file writes it, in JSON);
- ``PATCH /<code>`` changes some of its keys (``null`` removes a key; the code stays).

Campaigns live in the programme document (the settings API's and `program apply`'s), so the
one parser validates them and a file applied later replaces them. Writes carry an
``Idempotency-Key`` (web.idempotent_write); a refusal is a 4xx that changes nothing.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy.orm import Session

from walletcards import web
from walletcards.admin.campaign_figures import figures, status
from walletcards.admin.inputs import check_request
from walletcards.errors import ApiError
from walletcards.loyalty.config import ProgramConfig, ProgramConfigError, parse_program
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import apply_program, program_config
from walletcards.staff.models import Staff

bp = Blueprint("admin_campaigns", __name__, url_prefix="/api/v1/programs/<slug>/campaigns")
bp.before_request(check_request)
MAX_CODE = 63


def _listed(session: Session, program: Program, config: ProgramConfig) -> list[dict[str, Any]]:
    now = web.clock().now()
    zone = config.rules.timezone
    stored = {entry.get("code"): entry for entry in program.config.get("campaigns") or []}
    return [
        {
            "code": campaign.code,
            "definition": stored.get(campaign.code, {}),
            **status(campaign, zone, now),
            "figures": figures(session, program, campaign, zone, now),
        }
        for campaign in config.campaigns
    ]


def _one(session: Session, program: Program, code: str) -> dict[str, Any]:
    found = [c for c in _listed(session, program, program_config(program)) if c["code"] == code]
    return found[0]


def _save(session: Session, program: Program, campaigns: list[Any]) -> None:
    document = copy.deepcopy(program.config)
    document["campaigns"] = campaigns
    try:
        config = parse_program(document, stored=True)
    except ProgramConfigError as exc:
        problems = [p for p in exc.problems if p[0].startswith("campaigns")] or exc.problems
        raise ApiError(
            422, "invalid_campaign", "; ".join(f"{where}: {what}" for where, what in problems)
        ) from exc
    apply_program(session, config, web.clock().now())


@bp.get("")
def list_campaigns(slug: str) -> tuple[Response, int]:
    with web.database().transaction() as session:
        staff, program = web.staff_member(session)
        web.require_own_manager(staff, program, slug)
        answer = {"campaigns": _listed(session, program, program_config(program))}
    return jsonify(answer), 200


@bp.post("")
def create(slug: str) -> tuple[Response, int]:
    def run(
        session: Session, staff: Staff, program: Program, body: dict[str, Any], key: str
    ) -> dict[str, Any]:
        web.require_own_manager(staff, program, slug)
        session.refresh(program, with_for_update=True)  # writers of the document queue here
        code = body.get("code")
        existing = list(program.config.get("campaigns") or [])
        if isinstance(code, str) and any(entry.get("code") == code for entry in existing):
            raise ApiError(409, "duplicate_campaign", f"campaign {code[:MAX_CODE]!r} exists")
        _save(session, program, [*existing, body])
        return _one(session, program, str(code))

    return web.idempotent_write("campaign.create", run, status=201)


@bp.patch("/<code>")
def change(slug: str, code: str) -> tuple[Response, int]:
    def run(
        session: Session, staff: Staff, program: Program, body: dict[str, Any], key: str
    ) -> dict[str, Any]:
        web.require_own_manager(staff, program, slug)
        session.refresh(program, with_for_update=True)
        existing = list(program.config.get("campaigns") or [])
        index = next((i for i, e in enumerate(existing) if e.get("code") == code), None)
        if index is None:
            raise ApiError(404, "unknown_campaign", f"no campaign {code[:MAX_CODE]!r}")
        if "code" in body and body["code"] != code:
            raise ApiError(422, "invalid_campaign", "code: a campaign keeps its code")
        changed = {**existing[index], **body}
        existing[index] = {k: v for k, v in changed.items() if v is not None}
        _save(session, program, existing)
        return _one(session, program, code)

    return web.idempotent_write("campaign.change", run)
