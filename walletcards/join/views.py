"""GET/POST /join/<slug>: the sign-up page; GET /join/<slug>/confirm/<token>: the link in the
confirmation email (docs/joining.md).

What a sign-up answers never says whether the person was a member already when the programme
confirms by email (``[join] confirm_email``, the default): the same "check your email" page
for a new member (held until the link is opened; the card email of a held card is the
confirmation email, outbound/delivery.py) and for a known one (their card link again, to the
address we hold, not to the one typed). Both paths do comparable database work (a known
member's path checks for a recent email, queues one and wakes the worker, as a new member's
does), and the answer waits until ``ANSWER_FLOOR`` after the post began. Without
confirmation a new member goes straight to their card, and a known one is told their card
was sent to their email.

Posts are limited per client address (Flask-Limiter, the sign-in forms' limiter); a known
member's card email is sent at most once per ``RESEND_AFTER``, so the form cannot be used to
flood someone's inbox.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from sqlalchemy import select
from sqlalchemy.orm import Session

from walletcards import web
from walletcards.db import wake_workers
from walletcards.errors import ApiError, error_response
from walletcards.i18n import language
from walletcards.join.form import (
    HONEYPOT,
    TICKED,
    Filled,
    form_token,
    form_token_ok,
    is_robot,
    read_form,
    required_contacts,
)
from walletcards.join.links import (
    CONFIRM_DAYS,
    LinkExpired,
    confirmed_by,
    email_matches,
    ref_code,
    staff_code,
)
from walletcards.loyalty import ledger, members, referrals
from walletcards.loyalty.config import ProgramConfig
from walletcards.loyalty.config_join import JoinTable
from walletcards.loyalty.config_rules import CODE_RE as SLUG_RE
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.loyalty.programs import UnknownProgram, get_program, program_config
from walletcards.outbound import outbox
from walletcards.outbound.models import OutboxEmail
from walletcards.page_texts import template_texts

bp = Blueprint("join", __name__)

SUBMIT_LIMIT = "10/minute;100/hour"  # sign-ups from one client address
CONFIRM_LIMIT = "30/minute;300/hour"  # confirmation links opened from one client address
RESEND_AFTER = timedelta(minutes=15)
ANSWER_FLOOR = 0.2  # seconds: a confirmed-by-email sign-up's answer takes at least this


def limit_join(app: Flask) -> None:
    """Per client address, on the app's one limiter (``staff.signin.limit_logins``)."""
    limiter = app.extensions["walletcards.limiter"]
    for name, limit in (("join.submit", SUBMIT_LIMIT), ("join.confirm", CONFIRM_LIMIT)):
        limited = limiter.shared_limit(limit, scope=name, key_func=get_remote_address)
        app.view_functions[name] = limited(app.view_functions[name])


def joinable(session: Session, slug: str, *, enabled: bool = True) -> Program:
    """The programme whose sign-up page this is; 404 for an unknown or malformed slug and
    (``enabled``) for a programme without ``[join]`` or with ``enabled = false``."""
    if not SLUG_RE.fullmatch(slug):  # no query for what cannot be a slug (NUL, over-long)
        raise ApiError(404, "not_found", "no such sign-up page")
    try:
        program = get_program(session, slug)
    except UnknownProgram as exc:
        raise ApiError(404, "not_found", "no such sign-up page") from exc
    join = program_config(program).join
    if enabled and (join is None or not join.enabled):
        raise ApiError(404, "not_found", "no such sign-up page")
    return program


def join_table(config: ProgramConfig) -> JoinTable:
    assert config.join is not None  # joinable() let only such programmes through
    return config.join


def page_lang(config: ProgramConfig) -> str:
    """``?lang=`` if the programme offers it, else the browser's best among them, else the
    programme's default language."""
    wanted = request.args.get("lang", "")
    if wanted in config.languages:
        return wanted
    return request.accept_languages.best_match(config.languages) or config.locale


def page(template: str, status: int, program: Program, lang: str, **values: Any) -> Response:
    config = program_config(program)
    html = render_template(
        template,
        slug=program.slug,
        program_name=config.name_in(lang),
        **template_texts(lang),
        **values,
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def form_page(
    program: Program,
    lang: str,
    status: int = 200,
    filled: Filled | None = None,
    message: str | None = None,
) -> Response:
    config = program_config(program)
    join = join_table(config)
    filled = filled or Filled(lang, values={"language": lang}, staff=None)
    return page(
        "join/form.html",
        status,
        program,
        lang,
        form=form_token(web.settings().secret_key.reveal(), program.slug),
        values=filled.values,
        errors=filled.errors,
        staff=filled.staff,
        ref=filled.ref,
        message=message,
        required=required_contacts(join),
        terms_url=join.terms_url,
        languages=[(code, Locale.parse(code).get_display_name(code)) for code in config.languages],
        honeypot=HONEYPOT,
        ticked=TICKED,
    )


def sent_page(program: Program, lang: str, started: float) -> Response:
    """The answer of every sign-up that does not go straight to a new card: "check your email"
    (confirmation on) or "we've sent your card" (off). With confirmation on it is not given
    before ``ANSWER_FLOOR`` seconds from the post's start (``time.monotonic()``), so a new
    member's extra inserts do not show in the timing either."""
    confirm = join_table(program_config(program)).confirm_email
    answer = page("join/sent.html", 200, program, lang, confirm=confirm)
    if confirm:
        time.sleep(max(0.0, ANSWER_FLOOR - (time.monotonic() - started)))
    return answer


@bp.get("/join/<slug>")
def show(slug: str) -> Response:
    with web.database().transaction() as session:
        program = joinable(session, slug)
    lang = page_lang(program_config(program))
    filled = Filled(
        lang,
        values={"language": lang},
        staff=staff_code(request.args.get("staff")),
        ref=ref_code(request.args.get("ref")),
    )
    return form_page(program, lang, filled=filled)


@bp.post("/join/<slug>")
def submit(slug: str) -> Response:
    started = time.monotonic()
    database, clock = web.database(), web.clock()
    with database.transaction() as session:
        program = joinable(session, slug)
    config = program_config(program)
    join = join_table(config)
    lang = page_lang(config)
    t = language(lang)
    if not form_token_ok(web.settings().secret_key.reveal(), slug, request.form.get("form")):
        return form_page(
            program, lang, 400, message=t.gettext("This form has expired. Please try again.")
        )
    if is_robot(request.form):  # as if it worked; nothing is written
        return sent_page(program, lang, started)
    now = clock.now()
    today = now.astimezone(ZoneInfo(config.rules.timezone)).date()
    filled = read_form(request.form, join, config.languages, lang, today)
    if filled.applicant is None:
        message = language(filled.lang).gettext("Please check the fields marked below.")
        return form_page(program, filled.lang, 400, filled, message)
    with database.transaction() as session:
        program = get_program(session, slug)
        done = members.enrol(
            session,
            program,
            filled.applicant,
            now,
            via="join",
            confirmed=not join.confirm_email,
            staff=filled.staff,
            terms_version=join.terms_version,
            secret=web.settings().secret_key.reveal(),
        )
        if not done.created:
            resend_card(session, program, done.card, now)
        elif filled.ref:
            referrals.attribute(session, program, done.card, filled.ref, now, via="join")
        card_token = done.card.public_token
    if done.created and not join.confirm_email:
        return redirect(f"/c/{card_token}", code=303)  # type: ignore[return-value]
    return sent_page(program, filled.lang, started)


def resend_card(session: Session, program: Program, card: Card, now: datetime) -> None:
    """A known member signed up again: their card email (the confirmation email while their
    card is held) to the address we hold, unless one was queued in the last ``RESEND_AFTER``."""
    recent = session.execute(
        select(OutboxEmail.id).where(
            OutboxEmail.card_id == card.id, OutboxEmail.created_at > now - RESEND_AFTER
        )
    ).first()
    if recent is None:
        outbox.queue_card_email(session, program, card, now)
        wake_workers(session)  # the worker sends it now, as it pushes a new card now


@bp.get("/join/<slug>/confirm/<token>")
def confirm(slug: str, token: str) -> Response:
    """Confirms the held sign-up the token names (paying a join welcome) and shows its card;
    opening it again shows the card again. Expired: 410 with a way to sign up again."""
    secret = web.settings().secret_key.reveal()
    with web.database().transaction() as session:
        program = joinable(session, slug, enabled=False)
        lang = page_lang(program_config(program))
        try:
            found = confirmed_by(secret, program.id, token)
        except LinkExpired:
            found, expired = None, True
        else:
            expired = False
        customer = session.get(Customer, found[0]) if found and 0 < found[0] < 2**63 else None
        card_token = None
        if (
            found is not None
            and customer is not None
            and customer.program_id == program.id
            and customer.erased_at is None
            and email_matches(secret, customer.email, found[1])
        ):
            card_token = confirm_held(session, program, customer, web.clock().now(), secret)
    if card_token is not None:
        return redirect(f"/c/{card_token}", code=303)  # type: ignore[return-value]
    return page(
        "join/link.html", 410 if expired else 404, program, lang, expired=expired, days=CONFIRM_DAYS
    )


def confirm_held(
    session: Session, program: Program, customer: Customer, now: datetime, secret: str
) -> str:
    """Confirm the sign-up (once, however often the link is opened at once: the card's lock
    serialises them) and announce its card (``card.issued``, held back until now); the card's
    URL token."""
    card_id = session.execute(select(Card.id).where(Card.customer_id == customer.id)).scalar_one()
    card = ledger.lock_card(session, card_id)
    session.refresh(customer)
    if customer.confirmed_at is None:
        outbox.announce_card(session, program, card, customer, now)
        members.confirm(session, program, customer, now, secret)
    return card.public_token


@bp.errorhandler(RateLimitExceeded)
def too_many(_exc: RateLimitExceeded) -> Response:
    slug = str((request.view_args or {}).get("slug", ""))
    try:
        with web.database().transaction() as session:
            program = joinable(session, slug, enabled=False)
    except ApiError:  # no such programme (a guesser over the limit): the plain error
        answer, _ = error_response(429, "rate_limited", "too many attempts; wait a minute")
        answer.status_code = 429
        return answer
    lang = page_lang(program_config(program))
    message = language(lang).gettext("Too many attempts. Wait a minute, then try again.")
    if request.endpoint == "join.submit" and program_config(program).join is not None:
        answer = form_page(program, lang, 429, message=message)
    else:
        answer = page("join/link.html", 429, program, lang, expired=False, message=message)
    limit = current_app.extensions["walletcards.limiter"].current_limit
    wait = limit.reset_at - time.time() if limit is not None else 60
    answer.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return answer
