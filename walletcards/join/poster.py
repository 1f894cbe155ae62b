"""GET /join/<slug>/poster: the counter poster (printable: ``?size=a4|a5|letter``), and
GET /join/<slug>/qr.svg: the QR code of the sign-up page. Both take ``?staff=<code>``
(``[a-z0-9-]{1,63}``, anything else ignored): the QR then carries it to the sign-up page,
which records it on the new member (``Customer.joined_staff``)."""

from __future__ import annotations

import io
from decimal import Decimal

import qrcode
import qrcode.image.svg
from babel.numbers import format_percent
from flask import Blueprint, Response, request
from markupsafe import Markup

from walletcards import web
from walletcards.i18n import language
from walletcards.join.links import join_url, staff_code
from walletcards.join.views import join_table, joinable, page, page_lang
from walletcards.loyalty.config import ProgramConfig
from walletcards.loyalty.programs import program_config

bp = Blueprint("join_poster", __name__)
SIZES = {"a4": "A4", "a5": "A5", "letter": "letter"}


def qr_svg(url: str) -> bytes:
    """The URL's QR code as a standalone SVG document (qrcode's path image)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def offer(config: ProgramConfig, lang: str) -> list[str]:
    """What joining gets, in short true lines from the rules: the welcome bonus (on joining
    or on the first order) and the base earn rate (tiers may raise it; the poster does not
    promise that)."""
    t = language(lang)
    rules = config.rules
    lines = []
    welcome = rules.welcome
    if welcome is not None and welcome.on == "join":
        lines.append(
            t.ngettext(
                "%(num)s bonus point when you join",
                "%(num)s bonus points when you join",
                welcome.points,
            )
        )
    elif welcome is not None:
        lines.append(
            t.ngettext(
                "%(num)s bonus point on your first order",
                "%(num)s bonus points on your first order",
                welcome.points,
            )
        )
    earning = rules.earning
    one = t.money(Decimal(1), config.currency)
    if earning.cashback_percent is not None:
        percent = format_percent(earning.cashback_percent / 100, locale=t.locale)
        lines.append(t.gettext("%(percent)s back in points on every purchase", percent=percent))
    elif earning.points_per_unit == earning.points_per_unit.to_integral_value() > 0:
        lines.append(
            t.ngettext(
                "%(num)s point for every %(amount)s you spend",
                "%(num)s points for every %(amount)s you spend",
                int(earning.points_per_unit),
                amount=one,
            )
        )
    elif earning.points_per_unit > 0:
        lines.append(
            t.gettext(
                "%(points)s points for every %(amount)s you spend",
                points=t.number(earning.points_per_unit),
                amount=one,
            )
        )
    return lines


@bp.get("/join/<slug>/poster")
def poster(slug: str) -> Response:
    with web.database().transaction() as session:
        program = joinable(session, slug)
    config = program_config(program)
    lang = page_lang(config)
    staff = staff_code(request.args.get("staff"))
    url = join_url(web.settings().public_url, program.slug, staff)
    svg = qr_svg(url).decode()
    svg = svg[svg.index("<svg") :]  # inline: without the XML declaration
    confirm = join_table(config).confirm_email
    return page(
        "join/poster.html",
        200,
        program,
        lang,
        size=SIZES.get(request.args.get("size", ""), "A4"),
        qr=Markup(svg),  # noqa: S704 (qrcode's own markup, of our own URL)
        url=url,
        offer=offer(config, lang),
        confirm=confirm,
    )


@bp.get("/join/<slug>/qr.svg")
def join_qr(slug: str) -> Response:
    with web.database().transaction() as session:
        program = joinable(session, slug)
    url = join_url(web.settings().public_url, program.slug, staff_code(request.args.get("staff")))
    return Response(
        qr_svg(url),
        mimetype="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )
