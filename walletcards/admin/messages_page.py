"""/admin/messages/: the owner types a message in the dashboard (managers and admins; the
dashboard's session cookie and CSRF token) and follows its delivery.

- ``GET /admin/messages/``: the form (text per language of the programme, link, kind,
  audience all / segment / tiers, send time in the programme's time zone, email too) and the
  latest messages;
- ``POST /admin/messages/``: the form's message goes through the same checks and service as
  the owner's API (walletcards/messages/inputs.py, service.py); a refusal shows the form
  again with what was typed and the reason (422). Each rendered form carries a one-time
  ``form_key``, the form's Idempotency-Key: a double click or a resent POST finds the
  message the key already made and shows it instead of sending a second one to every card;
- ``GET /admin/messages/<id>``: its delivery figures and a chart over time
  (admin/messages_figures.py), and cancel while it is scheduled (``POST …/<id>/cancel``).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, redirect, render_template, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from walletcards import web
from walletcards.admin.charts import line_chart
from walletcards.admin.inputs import check_request
from walletcards.admin.messages_figures import timeline
from walletcards.cashier.models import TillRequest
from walletcards.errors import ApiError
from walletcards.loyalty.config import ProgramConfig
from walletcards.loyalty.config_segments import RFM_GROUPS
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_config
from walletcards.messages import service
from walletcards.messages.inputs import read_message
from walletcards.page_texts import staff_texts
from walletcards.staff import sessions as staff_session
from walletcards.staff.models import Staff

bp = Blueprint("admin_messages", __name__, url_prefix="/admin/messages")
bp.before_request(check_request)

FIELDS = ("link", "kind", "audience", "segment", "send_at", "email")
FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
ALREADY_SENT = "This form was already sent with other content; reload the page for a new message."
NO_FORM_KEY = "This form has expired. Check the message below and send it again."
BEING_SENT = "This form is being sent; open the message list to see it."
# the same page sent again with other words (sent, then edited after going back)
REUSED = ("form_already_sent", ALREADY_SENT)


def _signed_in(session: Session) -> tuple[Staff, Program] | None:
    found = staff_session.signed_in(session, web.clock().now())
    if found is not None:
        web.require_manager(found[0])
    return found


def _page(status: int = 200, **values: Any) -> Response:
    html = render_template(
        "admin_messages.html",
        csrf=staff_session.csrf_token(),
        form_key=secrets.token_urlsafe(18),
        **staff_texts(values.get("program")),
        **values,
    )
    return Response(
        html, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"}
    )


def _form_values(config: ProgramConfig) -> dict[str, Any]:
    """What the form offers: the programme's languages, segments and tiers."""
    tiers = [(t.code, t.name) for t in config.rules.tiers.levels] if config.rules.tiers else []
    rules = [(rule.code, rule.name) for rule in config.segments]
    return {
        "languages": config.languages,
        "segments": [(code, code) for code in RFM_GROUPS] + rules,
        "tiers": tiers,
        "zone": config.rules.timezone,
    }


def _listing(session: Session, program: Program, **values: Any) -> dict[str, Any]:
    config = program_config(program)
    return {
        "program": program,
        "messages": service.listing(session, program),
        **_form_values(config),
        **values,
    }


def form_body(form: MultiDict[str, str], config: ProgramConfig) -> dict[str, Any]:
    """The form as the API's body (read_message checks it); a local send time gets the
    programme's UTC offset."""
    texts = {lang: form.get(f"text_{lang}", "").strip() for lang in config.languages}
    body: dict[str, Any] = {
        "text": {lang: words for lang, words in texts.items() if words},
        "kind": form.get("kind", ""),
    }
    if form.get("link", "").strip():
        body["link"] = form.get("link", "").strip()
    chosen = form.get("audience", "all")
    if chosen == "segment":
        body["audience"] = {"segment": form.get("segment", "")}
    elif chosen == "tiers":
        body["audience"] = {"tiers": form.getlist("tiers")}
    else:
        body["audience"] = {"all": True}
    when = form.get("send_at", "").strip()
    if when:
        try:
            moment = datetime.fromisoformat(when)
        except ValueError:
            raise ApiError(422, "invalid_message", "send_at: a date and time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(config.rules.timezone))
        body["send_at"] = moment.isoformat()
    if form.get("email"):
        body["channels"] = ["wallet", "email"]
    return body


@bp.get("/")
def index() -> Response:
    with web.database().transaction() as session:
        signed_in = _signed_in(session)
        if signed_in is None:
            return redirect("/admin/", code=303)  # type: ignore[return-value]
        staff, program = signed_in
        return _page(staff=staff, **_listing(session, program, typed={}))


def _form_digest(form: MultiDict[str, str]) -> str:
    fields = sorted((key, form.getlist(key)) for key in form if key not in ("csrf_token",))
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()


def _refused(exc: ApiError) -> Response:
    """The form again with what was typed and the reason (a fresh form key with it)."""
    with web.database().transaction() as session:
        signed_in = _signed_in(session)
        if signed_in is None:
            return redirect("/admin/", code=303)  # type: ignore[return-value]
        staff, program = signed_in
        typed: dict[str, Any] = {key: request.form.get(key, "") for key in FIELDS}
        for lang in program_config(program).languages:
            typed[f"text_{lang}"] = request.form.get(f"text_{lang}", "")
        typed["tiers"] = request.form.getlist("tiers")
        values = _listing(session, program, typed=typed)
        return _page(exc.status, staff=staff, error=exc.message, **values)


@bp.post("/")
def create() -> Response:
    if not staff_session.csrf_ok(request.form.get("csrf_token")):
        raise ApiError(403, "csrf", "missing or wrong CSRF token; reload the page")
    key = request.form.get("form_key", "")
    if not FORM_KEY.fullmatch(key):  # e.g. a page rendered before this field existed
        return _refused(ApiError(400, "form_key", NO_FORM_KEY))
    digest, now = _form_digest(request.form), web.clock().now()
    for _ in range(2):
        try:
            with web.database().transaction() as session:
                signed_in = _signed_in(session)
                if signed_in is None:
                    return redirect("/admin/", code=303)  # type: ignore[return-value]
                staff, program = signed_in
                earlier = web.stored_answer(session, staff, f"admin-message:{key}", digest, REUSED)
                message_id = None if earlier is None else str(earlier.response["message_id"])
                if message_id is None:
                    claim = TillRequest(
                        staff_id=staff.id,
                        idempotency_key=f"admin-message:{key}",
                        request_hash=digest,
                        status=303,
                        response={},
                        created_at=now,
                    )
                    session.add(claim)
                    session.flush()  # a concurrent twin with this key waits here
                    config = program_config(program)
                    given = read_message(form_body(request.form, config), config, now)
                    message = service.create(session, program, given, now)
                    message_id = str(message.id)
                    claim.response = {"message_id": message_id}
            return redirect(f"/admin/messages/{message_id}", code=303)  # type: ignore[return-value]
        except IntegrityError:
            continue  # the twin committed first: look again, find its message
        except ApiError as exc:
            if exc.status not in (409, 422):
                raise
            return _refused(exc)
    return _refused(ApiError(409, "form_already_sent", BEING_SENT))


@bp.get("/<message_id>")
def show(message_id: str) -> Response:
    with web.database().transaction() as session:
        signed_in = _signed_in(session)
        if signed_in is None:
            return redirect("/admin/", code=303)  # type: ignore[return-value]
        staff, program = signed_in
        message = service.find(session, program, message_id)
        zone = program_config(program).rules.timezone
        over_time = timeline(session, message, zone)
        chart = None
        if over_time is not None:
            chart = line_chart(
                "Delivery",
                over_time.labels,
                [
                    ("Pushed", over_time.pushed),
                    ("Fetched by the phone", over_time.fetched),
                    ("Emailed", over_time.emailed),
                ],
            )
        return _page(
            staff=staff,
            program=program,
            message=service.summary(message),
            figures=service.figures(session, message),
            chart=chart,
        )


@bp.post("/<message_id>/cancel")
def cancel(message_id: str) -> Response:
    if not staff_session.csrf_ok(request.form.get("csrf_token")):
        raise ApiError(403, "csrf", "missing or wrong CSRF token; reload the page")
    with web.database().transaction() as session:
        signed_in = _signed_in(session)
        if signed_in is None:
            return redirect("/admin/", code=303)  # type: ignore[return-value]
        message = service.find(session, signed_in[1], message_id, lock=True)
        service.cancel(session, message, web.clock().now())
    return redirect(f"/admin/messages/{message_id}", code=303)  # type: ignore[return-value]
