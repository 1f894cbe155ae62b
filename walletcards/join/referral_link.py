"""GET /r/<code>: a member's referral link (docs/referrals.md). It leads to the programme's
sign-up page with the code (``/join/<slug>?ref=<code>``) when it has one, else to the shop
(``[redemption] shop_url`` with ``?ref=<code>``); an unknown code, or a programme without
``[referral]`` or anywhere to go, is a 404 page."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, redirect

from walletcards import web
from walletcards.loyalty import referrals
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_config
from walletcards.loyalty.referral_codes import MAX_CODE

bp = Blueprint("referral_link", __name__)

NOT_FOUND = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Not found</title>"
    "<h1>Not found</h1><p>This referral link is not valid.</p></html>"
)


def _target(program: Program, code: str) -> str | None:
    config = program_config(program)
    if config.referral is None:
        return None
    if config.join is not None and config.join.enabled:
        return f"/join/{program.slug}?{urlencode({'ref': code})}"
    shop = config.rules.redemption.shop_url
    if shop is None:
        return None
    parts = urlsplit(shop)
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=query + urlencode({"ref": code})))


@bp.get("/r/<code>")
def follow(code: str) -> Response:
    target = None
    if len(code) <= MAX_CODE:
        with web.database().transaction() as session:
            card = referrals.referrer_of(session, code)
            program = session.get(Program, card.program_id) if card is not None else None
            target = _target(program, code) if program is not None else None
    if target is None:
        answer = Response(NOT_FOUND, status=404, mimetype="text/html")
    else:
        answer = redirect(target, code=302)  # type: ignore[assignment]
    answer.headers["Cache-Control"] = "no-store"
    return answer
