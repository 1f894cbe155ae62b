"""GET /c/<token>: the card page, its QR code as SVG, and the Apple pass download."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards.apple.passes import AppleNotConfigured, render_pass
from walletcards.apple.pkpass import MEDIA_TYPE
from walletcards.cardface import card_face
from walletcards.clients import Clients
from walletcards.db import Database
from walletcards.errors import ApiError
from walletcards.links import card_links
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import program_config
from walletcards.settings import Settings

bp = Blueprint("customer", __name__)


def _card(session: Session, token: str) -> tuple[Card, Program]:
    """One indexed look-up whatever the token looks like, so a malformed or unknown token
    costs the same as a valid one and answers the same 404."""
    card = session.execute(select(Card).where(Card.public_token == token[:64])).scalar_one_or_none()
    if card is None or card.public_token != token:
        raise ApiError(404, "not_found", "no such card")
    program = session.get(Program, card.program_id)
    assert program is not None
    return card, program


def _context() -> tuple[Database, Settings, Clients]:
    ext = current_app.extensions
    return ext["walletcards.db"], ext["walletcards.settings"], ext["walletcards.clients"]


@bp.get("/c/<token>")
def card_page(token: str) -> Response:
    database, settings, clients = _context()
    with database.transaction() as session:
        card, program = _card(session, token)
        face = card_face(session, program, card, clients.clock.now(), settings.secret_key.reveal())
        document = program_config(program).document
    links = card_links(settings.public_url, card.public_token, "google" in document)
    html = render_template(
        "card.html", face=face, links=links, apple="apple" in document, token=card.public_token
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/c/<token>/qr.svg")
def qr_svg(token: str) -> Response:
    database, settings, _ = _context()
    with database.transaction() as session:
        card, program = _card(session, token)
        from walletcards.codes import card_code

        code = card_code(settings.secret_key.reveal(), program.slug, card.member_number)
    image = qrcode.make(code, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return Response(
        buffer.getvalue(),
        mimetype="image/svg+xml",
        headers={"Cache-Control": "private, max-age=3600"},
    )


@bp.get("/c/<token>/card.pkpass")
def apple_pass(token: str) -> Response:
    database, settings, clients = _context()
    with database.transaction() as session:
        card, program = _card(session, token)
        try:
            chunks = render_pass(
                session,
                program,
                card,
                settings.public_url,
                settings.secret_key.reveal(),
                clients.clock.now(),
            )
        except AppleNotConfigured as exc:
            raise ApiError(404, "not_found", "this programme issues no Apple Wallet pass") from exc
    name = f"{program.slug}-card.pkpass"
    return Response(
        chunks,
        mimetype=MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Length": str(sum(len(chunk) for chunk in chunks)),
            "Cache-Control": "no-store",
        },
    )
