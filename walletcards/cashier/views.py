"""/cashier/: the till page (plain JS + CSS from static/cashier, jsQR vendored), login, logout."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request
from flask_limiter.errors import RateLimitExceeded

from walletcards import web
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_rules
from walletcards.page_texts import staff_texts
from walletcards.staff import sessions as till_session
from walletcards.staff import signin

bp = Blueprint("cashier", __name__, url_prefix="/cashier")
bp.context_processor(signin.sign_in_context)  # the shared sign-in form's programme list


def _page(status: int = 200, **values: Any) -> Response:
    values = {"staff": None, "program": None, "slug": "", "error": None, **values}
    html = render_template("cashier.html", csrf=till_session.csrf_token(), **values)
    return Response(
        html, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"}
    )


@bp.get("/")
def page() -> Response:
    with web.database().transaction() as session:
        staff, program = till_session.signed_in(session, web.clock().now()) or (None, None)
    return _page(
        staff=staff,
        program=program,
        slug=signin.echoed_slug(request.args.get("program")),
        error=request.args.get("error"),
        **staff_texts(program),
    )


@bp.post("/login")
def login() -> Response:
    return signin.sign_in("cashier", _page)


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(_exc: RateLimitExceeded) -> Response:
    return signin.too_many(_page)


@bp.post("/logout")
def logout() -> Response:
    if till_session.csrf_ok(request.form.get("csrf_token") or request.headers.get("X-CSRF-Token")):
        signin.sign_out()
    return redirect("/cashier/", code=303)  # type: ignore[return-value]


@bp.app_template_filter("point_value")
def point_value(program: Program) -> str:
    """What a point is worth (``[redemption] point_value``) as a plain decimal, for the till's
    redeem confirmation."""
    return format(program_rules(program).point_value, "f")
