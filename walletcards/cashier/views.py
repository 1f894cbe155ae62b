"""/cashier/: the till page (plain JS + CSS from static/cashier, jsQR vendored), login, logout."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request

from walletcards.cashier import session as till_session
from walletcards.clients import Clients
from walletcards.db import Database
from walletcards.errors import ApiError
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_choices, program_rules

bp = Blueprint("cashier", __name__, url_prefix="/cashier")


def _clients() -> Clients:
    clients: Clients = current_app.extensions["walletcards.clients"]
    return clients


@bp.get("/")
def page() -> Response:
    database: Database = current_app.extensions["walletcards.db"]
    with database.transaction() as session:
        staff, program = till_session.signed_in(session, _clients().clock.now()) or (None, None)
    html = render_template(
        "cashier.html",
        staff=staff,
        program=program,
        csrf=till_session.csrf_token(),
        slug=request.args.get("program", ""),
        error=request.args.get("error"),
    )
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})


@bp.post("/login")
def login() -> Response:
    if not till_session.csrf_ok(request.form.get("csrf_token")):
        raise ApiError(400, "csrf", "the login form expired; reload the page")
    database: Database = current_app.extensions["walletcards.db"]
    slug = request.form.get("program", "")
    with database.transaction() as session:
        staff = till_session.login(
            session,
            slug,
            request.form.get("email", ""),
            request.form.get("password", ""),
            _clients().clock.now(),
        )
    if staff is None:
        return redirect(f"/cashier/?program={slug}&error=1", code=303)  # type: ignore[return-value]
    return redirect("/cashier/", code=303)  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> Response:
    if till_session.csrf_ok(request.form.get("csrf_token") or request.headers.get("X-CSRF-Token")):
        till_session.logout()
    return redirect("/cashier/", code=303)  # type: ignore[return-value]


def sign_in_programmes() -> list[tuple[str, str]] | None:
    """The programmes the staff sign-in form offers (``programs.program_choices``): read in a
    short transaction of its own, only when a page renders that form."""
    database: Database = current_app.extensions["walletcards.db"]
    with database.transaction() as session:
        return program_choices(session)


@bp.context_processor
def sign_in_context() -> dict[str, Any]:
    """For the shared sign-in form (templates/_staff_page.html), on the till's and the
    dashboard's pages whichever view renders them."""
    return {"sign_in_programmes": sign_in_programmes}


@bp.app_template_filter("point_value")
def point_value(program: Program) -> str:
    """What a point is worth (``[redemption] point_value``) as a plain decimal, for the till's
    redeem confirmation."""
    return format(program_rules(program).point_value, "f")
