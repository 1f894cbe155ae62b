"""GET /c/<token>: the card page, its QR code as SVG, and the Apple pass download."""

from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, current_app, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from walletcards import texts, web
from walletcards.apple.passes import AppleNotConfigured, render_pass
from walletcards.apple.pkpass import MEDIA_TYPE
from walletcards.cardface import card_face
from walletcards.customer.consent_form import consent_section
from walletcards.customer.redeem_form import redeem_section
from walletcards.errors import ApiError
from walletcards.links import card_links
from walletcards.loyalty import referrals
from walletcards.loyalty.models import Card, Customer, Lot, Program
from walletcards.loyalty.programs import program_config, program_rules
from walletcards.page_texts import template_texts

bp = Blueprint("customer", __name__)
PUBLIC_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # cards.public_token is 64 wide
COLOURS = {"background_color": "--bg", "foreground_color": "--fg", "label_color": "--accent"}


def card_of(session: Session, token: str) -> tuple[Card, Program]:
    """The card of a URL token; the same 404 for unknown and malformed tokens. A token that is
    not of our shape (``secrets.token_urlsafe``: letters, digits, ``-``, ``_``) costs no query
    (a NUL would make PostgreSQL fail the statement); a well-formed one, one indexed look-up."""
    card = None
    if PUBLIC_TOKEN.fullmatch(token):
        card = session.execute(select(Card).where(Card.public_token == token)).scalar_one_or_none()
    customer = session.get(Customer, card.customer_id) if card is not None else None
    if card is None or customer is None or customer.erased_at is not None:
        raise ApiError(404, "not_found", "no such card")  # an erased customer's too
    program = session.get(Program, card.program_id)
    assert program is not None
    return card, program


def pending_note(
    session: Session, program: Program, card: Card, locale: str, now: datetime
) -> str | None:
    """When the held points become spendable: the earliest end of a hold with points left
    (a local day in the programme's time zone; today if the release job has yet to run);
    None when nothing is held."""
    if card.pending <= 0:
        return None
    first = session.execute(
        select(func.min(Lot.available_at)).where(
            Lot.card_id == card.id, Lot.released.is_(False), Lot.remaining > 0
        )
    ).scalar_one()
    if first is None:
        return None
    zone = ZoneInfo(program_rules(program).timezone)
    on = max(first.astimezone(zone).date(), now.astimezone(zone).date())
    return texts.pending_from(locale, card.pending, on, all_pending=card.available <= 0)


@bp.get("/c/<token>")
def card_page(token: str) -> Response:
    return card_response(token)


def card_response(
    token: str, status: int = 200, *, message: str | None = None, made: str | None = None
) -> Response:
    """The card page answering ``status``: ``message`` says what a post did or why it was
    refused, ``made`` is the code just reserved (shown first, with its shop link)."""
    database, settings, clients = web.database(), web.settings(), web.clients()
    with database.transaction() as session:
        card, program = card_of(session, token)
        now = clients.clock.now()
        secret = settings.secret_key.reveal()
        face = card_face(session, program, card, now, secret)
        pending = pending_note(session, program, card, face.locale, now)
        redeem = redeem_section(session, program, card, face.locale, now, secret)
        consent = consent_section(
            secret, card.public_token, session.get(Customer, card.customer_id)
        )
        config = program_config(program)
        welcome = referrals.friend_code(session, program, card, now)
    links = card_links(settings.public_url, card.public_token, config.google is not None)
    apple = config.apple
    html = render_template(
        "card.html",
        face=face,
        links=links,
        apple=apple is not None,
        token=card.public_token,
        **template_texts(face.locale),
        slug=program.slug,
        pending_note=pending,
        redeem=redeem,
        consent=consent,
        message=message,
        made=made,
        welcome=welcome,
        # the pass's colours (checked as #rrggbb or rgb(r, g, b) when the file was applied),
        # so the programme's logo, drawn for its pass, shows on the page as in the wallet
        colours={
            var: apple.colours[key].text
            for key, var in COLOURS.items()
            if apple and key in apple.colours
        },
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/c/<token>/qr.svg")
def qr_svg(token: str) -> Response:
    database, settings = web.database(), web.settings()
    with database.transaction() as session:
        card, program = card_of(session, token)
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
    database, settings, clients = web.database(), web.settings(), web.clients()
    with database.transaction() as session:
        card, program = card_of(session, token)
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


@bp.get("/c/<token>/google")
def google_save(token: str) -> Response:
    """Insert or patch the card's Google object through REST, then redirect to a skinny save
    link that names it (FACTS: re-issuing a JWT never updates an object)."""
    from walletcards.google.client import GoogleWalletError, PermissionDenied
    from walletcards.google.savelink import save_link
    from walletcards.google.sync import google_table, plan_update, upsert_card

    database, settings, clients = web.database(), web.settings(), web.clients()
    now = clients.clock.now()
    with database.transaction() as session:  # reads only; no network I/O in here
        card, program = card_of(session, token)
        if google_table(program) is None:
            raise ApiError(404, "not_found", "this programme issues no Google Wallet card")
        update = plan_update(session, program, card, settings, now)
    try:
        upsert_card(clients, program, settings, update.body)
    except PermissionDenied as exc:
        current_app.logger.error("Google Wallet: %s", exc)
        raise ApiError(
            503,
            "google_unavailable",
            "Google Wallet is not set up for this programme yet; please try again later",
        ) from exc
    except GoogleWalletError as exc:
        current_app.logger.warning("Google Wallet error %s %s: %s", exc.status, exc.reason, exc)
        raise ApiError(
            502, "google_unavailable", "Google Wallet did not answer; please try again"
        ) from exc
    table = google_table(program)
    assert table is not None
    from walletcards.google.client import load_service_account

    link = save_link(
        load_service_account(table.service_account_file),
        update.body["id"],
        settings.public_url,
        int(now.timestamp()),
    )
    return Response(status=302, headers={"Location": link, "Cache-Control": "no-store"})


@bp.get("/p/<slug>/logo.png")
def program_logo(slug: str) -> Response:
    """The programme's logo, public (Google fetches the class's programLogo from here)."""
    from pathlib import Path

    from walletcards.apple.pkpass import DEFAULT_IMAGES
    from walletcards.loyalty.config_rules import CODE_RE as SLUG_RE
    from walletcards.loyalty.programs import UnknownProgram, get_program

    if not SLUG_RE.fullmatch(slug):  # no query for what cannot be a slug (NUL, over-long)
        raise ApiError(404, "not_found", "no such programme")
    database = web.database()
    with database.transaction() as session:
        try:
            program = get_program(session, slug)
        except UnknownProgram as exc:
            raise ApiError(404, "not_found", "no such programme") from exc
        apple = program_config(program).apple
    folder = Path(apple.images_dir) if apple and apple.images_dir else DEFAULT_IMAGES
    path = (
        folder / "logo@3x.png"
        if (folder / "logo@3x.png").exists()
        else DEFAULT_IMAGES / "logo@3x.png"
    )
    return Response(
        path.read_bytes(), mimetype="image/png", headers={"Cache-Control": "public, max-age=86400"}
    )
