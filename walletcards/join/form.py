"""The sign-up form: its signed form token (CSRF) and its fields, bounded and checked at the
edge. A form that fails any check is shown again with each problem beside its field (400) and
nothing is written; a filled honeypot (``website``, hidden from people) is a robot.

The form token is the card page's approach (``customer/redeem_form.py``): itsdangerous with the
app's secret key and a salt of its own, bound to the programme's slug and a nonce, valid for
``FORM_AGE`` seconds. Sign-up needs no secret the visitor holds, so the token mainly proves the
post came from a page we rendered recently; the rate limit and the honeypot do the rest.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from itsdangerous import BadSignature, URLSafeTimedSerializer

from walletcards.i18n import language
from walletcards.join.links import ref_code, staff_code
from walletcards.loyalty.config_join import JoinTable
from walletcards.loyalty.members import (
    MAX_EMAIL,
    MAX_NAME,
    Applicant,
    InvalidContact,
    normalise_email,
    normalise_phone,
)

FORM_SALT = "walletcards.join-form"
FORM_AGE = 6 * 3600
MAX_FORM_TOKEN = 300
MAX_PHONE = 40
HONEYPOT = "website"
TICKED = "yes"
OLDEST = date(1900, 1, 1)


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=FORM_SALT)


def form_token(secret: str, slug: str) -> str:
    return str(_signer(secret).dumps([slug, secrets.token_urlsafe(12)]))


def form_token_ok(secret: str, slug: str, value: str | None) -> bool:
    if not value or len(value) > MAX_FORM_TOKEN:
        return False
    try:
        signed = _signer(secret).loads(value, max_age=FORM_AGE)
    except BadSignature:  # includes SignatureExpired
        return False
    return isinstance(signed, list) and len(signed) == 2 and signed[0] == slug


def _unprintable(text: str) -> bool:
    """NUL and other control characters, lone surrogates: never in a name, email or phone."""
    return any(unicodedata.category(char) in ("Cc", "Cs") for char in text)


def _shown(value: str) -> str:
    """A field as the form shows it again: bounded, without control characters."""
    return "".join(char for char in value[:400] if unicodedata.category(char) not in ("Cc", "Cs"))


@dataclass
class Filled:
    """What the visitor typed (shown again, bounded) and each field's problem, in ``lang``."""

    lang: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    applicant: Applicant | None = None
    staff: str | None = None
    ref: str | None = None  # a referral code (``?ref=``), carried like ``staff``


def required_contacts(join: JoinTable) -> tuple[str, ...]:
    """The contacts the form requires: the programme's, and the email whenever the sign-up
    is confirmed by email (the confirmation has to go somewhere)."""
    if join.confirm_email and "email" not in join.required:
        return ("email", *join.required)
    return join.required


def read_form(
    form: Mapping[str, str],
    join: JoinTable,
    languages: tuple[str, ...],
    page_lang: str,
    today: date,
) -> Filled:
    """The posted fields checked; ``applicant`` is None when any field has a problem."""
    raw = {
        name: form.get(name, "")
        for name in ("name", "email", "phone", "birthday", "language", "staff", "ref")
    }
    wanted = raw["language"]
    lang = wanted if wanted in languages else page_lang
    t = language(lang)
    filled = Filled(lang, staff=staff_code(raw["staff"] or None), ref=ref_code(raw["ref"] or None))
    filled.values = {key: _shown(value) for key, value in raw.items()}
    errors = filled.errors
    name = raw["name"].strip()
    if not name or len(name) > MAX_NAME or _unprintable(name):
        errors["name"] = t.gettext("Enter your name (at most 200 characters).")
    required = required_contacts(join)
    email = _contact(raw["email"], "email" in required, MAX_EMAIL, normalise_email)
    if email is False:
        errors["email"] = t.gettext("Enter an email address like name@example.com.")
    region = join.phone_region
    phone = _contact(
        raw["phone"], "phone" in required, MAX_PHONE, lambda v: normalise_phone(v, region)
    )
    if phone is False:
        errors["phone"] = t.gettext(
            "Enter a valid mobile number with its country code, e.g. +44 7700 900123."
        )
    birthday = _birthday(raw["birthday"], today)
    if birthday is False:
        errors["birthday"] = t.gettext("Enter your birthday as a date, e.g. 1990-05-31.")
    if wanted and wanted not in languages:
        errors["language"] = t.gettext("Choose one of the languages offered.")
    if form.get("terms") != TICKED:
        errors["terms"] = t.gettext("Please agree to the terms to join.")
    if errors:
        return filled
    assert email is not False and phone is not False and birthday is not False
    filled.applicant = Applicant(
        name=name,
        email=email,
        phone=phone,
        birthday=birthday,
        locale=lang,
        marketing_consent=form.get("marketing") == TICKED,
    )
    return filled


def _contact(
    raw: str, required: bool, bound: int, normalise: Callable[[str], str]
) -> str | Literal[False] | None:
    """The normalised contact, None when left empty and optional, False when it is wrong."""
    if len(raw) > bound or _unprintable(raw):
        return False
    if not raw.strip():
        return False if required else None
    try:
        value = normalise(raw)
    except InvalidContact:
        return False
    return value


def _birthday(raw: str, today: date) -> date | Literal[False] | None:
    if not raw.strip():
        return None
    if len(raw) != 10 or _unprintable(raw):
        return False
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        return False
    return value if OLDEST <= value <= today else False


def is_robot(form: Mapping[str, str]) -> bool:
    return bool(form.get(HONEYPOT))
