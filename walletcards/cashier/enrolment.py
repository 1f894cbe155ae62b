"""A walk-in joins at the till: the request parsed and bounded, and the QR code of the new card.

``POST /api/v1/cashier/enrol`` (:mod:`walletcards.cashier.api`) takes ``{"name"?, "email"?,
"phone"?, "birthday"?, "language"?, "marketing_consent"?}``; at least one of email and phone.
Email and phone are validated and normalised by :mod:`walletcards.loyalty.members` (a phone
typed without "+" is read in the programme's ``[join] phone_region``). Every refusal is a 422
naming its field, before anything is written. Blank fields count as not given.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import qrcode
import qrcode.image.svg

from walletcards.errors import ApiError
from walletcards.loyalty.members import (
    MAX_NAME,
    Applicant,
    InvalidContact,
    normalise_email,
    normalise_phone,
)
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_config, program_rules

OLDEST = date(1900, 1, 1)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def applicant(body: dict[str, Any], program: Program, now: datetime) -> Applicant:
    """Who joins, from the till's request body (already a JSON object of storable text)."""
    config = program_config(program)
    region = config.join.phone_region if config.join is not None else None
    email = _contact(body, "email", normalise_email)
    phone = _contact(body, "phone", lambda raw: normalise_phone(raw, region))
    if email is None and phone is None:
        raise ApiError(
            422, "contact_required", "email, phone: give the customer's email or phone (or both)"
        )
    return Applicant(
        name=_name(body.get("name")),
        email=email,
        phone=phone,
        birthday=_birthday(body.get("birthday"), program, now),
        locale=_language(body.get("language"), config.languages),
        marketing_consent=_consent(body.get("marketing_consent")),
    )


def _text(value: Any, field: str) -> str | None:
    """A string field, stripped; None when absent or blank."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(422, f"invalid_{field}", f"{field}: must be a string")
    return value.strip() or None


def _contact(body: dict[str, Any], field: str, normalise: Callable[[str], str]) -> str | None:
    raw = _text(body.get(field), field)
    if raw is None:
        return None
    try:
        return normalise(raw)
    except InvalidContact as exc:
        raise ApiError(422, f"invalid_{field}", f"{field}: {exc}") from exc


def _name(value: Any) -> str | None:
    name = _text(value, "name")
    if name is not None:
        name = " ".join(name.split())
        if len(name) > MAX_NAME or not name.isprintable():
            raise ApiError(422, "invalid_name", f"name: at most {MAX_NAME} printable characters")
    return name


def _birthday(value: Any, program: Program, now: datetime) -> date | None:
    text = _text(value, "birthday")
    if text is None:
        return None
    today = now.astimezone(ZoneInfo(program_rules(program).timezone)).date()
    try:
        day = date.fromisoformat(text) if _ISO_DATE.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None or not OLDEST <= day <= today:
        raise ApiError(
            422,
            "invalid_birthday",
            f"birthday: a date like 1990-04-23, from {OLDEST.isoformat()} to today",
        )
    return day


def _language(value: Any, offered: tuple[str, ...]) -> str | None:
    code = _text(value, "language")
    if code is not None and code not in offered:
        raise ApiError(
            422, "invalid_language", f"language: one of {', '.join(offered)} (the programme's)"
        )
    return code


def _consent(value: Any) -> bool:
    if value is None:
        return False  # never assumed: consent is a tick the customer asked for
    if not isinstance(value, bool):
        raise ApiError(422, "invalid_marketing_consent", "marketing_consent: true or false")
    return value


def qr_svg(text: str) -> str:
    """``text`` (the card page's address) as a QR code in SVG, for the customer's own phone."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()
