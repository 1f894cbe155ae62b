"""``[join]``: joining without a purchase (the sign-up page, the counter poster).

A programme without the table has no sign-up page (``/join/<slug>`` answers 404); enrolment at
the till works either way. ``required`` names the contact details a sign-up must give (at least
one of email and phone); ``confirm_email`` holds a new member's card until the link in the
email is opened (docs/joining.md explains the trade-off); ``terms_url`` / ``terms_version`` are
what the required terms checkbox points at and what the consent record stores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from walletcards.loyalty.config_reader import TableReader

Problems = list[tuple[str, str]]
CONTACTS = ("email", "phone")
_REGION = re.compile(r"[A-Z]{2}")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")


@dataclass(frozen=True)
class JoinTable:
    enabled: bool = True
    required: tuple[str, ...] = ("email",)
    confirm_email: bool = True
    terms_url: str | None = None
    terms_version: str = "1"  # recorded with each consent; change it when the terms change
    # ISO 3166 region for numbers typed without "+" (e.g. "GB": "07700 900123"); None: a
    # phone must be given in international form
    phone_region: str | None = None


def read_join(data: Any, problems: Problems) -> JoinTable | None:
    if data is None:
        return None
    reader = TableReader(data, "join", problems)
    default = JoinTable()
    enabled = reader.boolean("enabled", True)
    required = _required(reader)
    confirm = reader.boolean("confirm_email", True)
    terms_url = reader.string("terms_url", None, max_length=500)
    if terms_url is not None and not re.fullmatch(r"https?://[^\s/]+\S*", terms_url):
        reader.fail("terms_url", 'must be an http(s) address, e.g. "https://shop.example/terms"')
        terms_url = None
    version = reader.string("terms_version", default.terms_version, max_length=32)
    if version is not None and not _VERSION.fullmatch(version):
        reader.fail("terms_version", 'letters, digits, ".", "_" and "-" (e.g. "2026-03")')
        version = None
    region = reader.string("phone_region", None, max_length=2)
    if region is not None and not _REGION.fullmatch(region):
        reader.fail("phone_region", 'a two-letter ISO 3166 region in capitals, e.g. "GB"')
        region = None
    reader.finish()
    return JoinTable(
        enabled, required, confirm, terms_url, version or default.terms_version, region
    )


def _required(reader: TableReader) -> tuple[str, ...]:
    value = reader.raw("required")
    if value is None:
        return JoinTable.required
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and item in CONTACTS for item in value)
    ):
        reader.fail("required", 'a non-empty list of "email" and/or "phone"')
        return JoinTable.required
    return tuple(item for item in CONTACTS if item in value)
