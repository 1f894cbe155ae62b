"""Programme files (TOML): parse and validate into typed rules; every error names its field.

The pinned tables (`[webhooks]`, see config_webhooks.py, `[apple]`, `[google]`) follow
docs/architecture.md; the rules tables (`[earning]`, `[hold]`, `[expiry]`, `[welcome]`,
`[every_nth]`, `[birthday]`, `[limits]`, `[tiers]`) are read by
:mod:`walletcards.loyalty.config_rules` and documented in README.md with
examples/demo.toml.
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from walletcards.i18n import LANGUAGES
from walletcards.loyalty.config_reader import TableReader
from walletcards.loyalty.config_rules import CODE_RE as SLUG_RE
from walletcards.loyalty.config_rules import ProgramRules, parse_rules
from walletcards.loyalty.config_webhooks import check_webhooks
from walletcards.loyalty.names import (
    Names,
    default_name,
    name_in,
    name_tiers,
    read_languages,
    read_names,
)
from walletcards.money import is_currency_code
from walletcards.outbound.destinations import MAX_URL, url_problem

LOCALES = LANGUAGES


class ProgramConfigError(ValueError):
    """A programme file that cannot be applied; ``problems`` lists (field, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))


@dataclass(frozen=True)
class ProgramConfig:
    slug: str
    name: str
    currency: str
    locale: str
    test_mode: bool
    rules: ProgramRules
    document: dict[str, Any]  # the validated file, stored as the programme's config
    languages: tuple[str, ...] = LANGUAGES  # offered; ``locale`` is the default
    names: Names = ()  # the programme's name per language, when the file gives a table

    def name_in(self, lang: str) -> str:
        return name_in(self.name, self.names, lang)


def load_program_file(path: str | Path) -> ProgramConfig:
    try:
        with open(path, "rb") as fh:
            document = tomllib.load(fh)
    except OSError as exc:
        raise ProgramConfigError([(str(path), f"cannot read: {exc.strerror}")]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProgramConfigError([(str(path), f"not valid TOML: {exc}")]) from exc
    return parse_program(document)


def parse_program(document: dict[str, Any], *, stored: bool = False) -> ProgramConfig:
    """Validate a whole programme document; raises ProgramConfigError listing every problem.

    ``stored``: a document already applied (read back from the database), which may predate
    a rule new files must follow (a pinned shop for each signed shop source)."""
    problems: list[tuple[str, str]] = []
    top = TableReader(document, "", problems)
    slug = top.string("slug", required=True) or ""
    if slug and not SLUG_RE.match(slug):
        top.fail("slug", "use lower-case letters, digits and '-' (at most 63)")
    plain_name, names = read_names(top, "name")
    currency = top.string("currency", required=True) or "USD"
    if not is_currency_code(currency):
        top.fail("currency", "must be an ISO 4217 code in capitals, e.g. USD")
        currency = "USD"
    locale = top.string("locale", "en") or "en"
    if locale not in LOCALES:
        top.fail("locale", f"must be one of {', '.join(LOCALES)}")
        locale = "en"
    languages = read_languages(top, locale)
    name = default_name("name", plain_name, names, languages, locale, problems)
    test_mode = top.boolean("test_mode", False)
    timezone = top.string("timezone", "UTC") or "UTC"
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        top.fail("timezone", f"{timezone!r} is not an IANA time zone (e.g. Europe/Moscow)")
        timezone = "UTC"
    check_webhooks(top.raw("webhooks"), problems, require_pins=not stored)
    _check_apple(top.raw("apple"), problems)
    _check_google(top.raw("google"), problems)
    _check_email(top.raw("email"), problems)
    _check_events(top.raw("events"), problems)
    rules = parse_rules(top, currency, problems)
    rules = name_tiers(replace(rules, timezone=timezone), languages, locale, problems)
    top.finish()
    if problems:
        raise ProgramConfigError(problems)
    return ProgramConfig(slug, name, currency, locale, test_mode, rules, document, languages, names)


def _check_apple(data: Any, problems: list[tuple[str, str]]) -> None:
    if data is None:
        return
    reader = TableReader(data, "apple", problems)
    ptid = reader.string("pass_type_identifier", required=True)
    if ptid and not ptid.startswith("pass."):
        reader.fail("pass_type_identifier", 'starts with "pass." (e.g. pass.com.example.demo)')
    team = reader.string("team_identifier", required=True)
    if team and not re.fullmatch(r"[A-Z0-9]{10}", team):
        reader.fail("team_identifier", "is 10 capital letters or digits")
    for key in ("certificate", "private_key", "wwdr_certificate"):
        reader.string(key, required=True)
    for key in ("private_key_password", "images_dir", "apns_key_file", "apns_key_id"):
        reader.string(key)
    if bool(reader.raw("apns_key_file")) != bool(reader.raw("apns_key_id")):
        reader.fail("apns_key_id", "token auth needs both apns_key_file (.p8) and apns_key_id")
    for key in ("background_color", "foreground_color", "label_color"):
        colour = reader.string(key)
        if colour and not re.fullmatch(
            r"#[0-9a-fA-F]{6}|rgb\(\d{1,3}, ?\d{1,3}, ?\d{1,3}\)", colour
        ):
            reader.fail(key, 'use "#rrggbb" or "rgb(r, g, b)"')
    reader.finish()


def _check_google(data: Any, problems: list[tuple[str, str]]) -> None:
    if data is None:
        return
    reader = TableReader(data, "google", problems)
    issuer = reader.string("issuer_id", required=True)
    if issuer and not issuer.isdigit():
        reader.fail("issuer_id", "is the issuer's numeric id, as a string")
    reader.string("service_account_file", required=True)
    reader.boolean("rotating_barcode", False)
    reader.finish()


def _check_email(data: Any, problems: list[tuple[str, str]]) -> None:
    if data is None:
        return
    reader = TableReader(data, "email", problems)
    reader.boolean("enabled", True)
    sender = reader.string("from", required=True)
    if sender and "@" not in sender:
        reader.fail("from", 'an address, e.g. "Demo Coffee <cards@demo.example>"')
    reader.string("reply_to")
    reader.finish()


EVENT_TYPES = ("card.issued", "points.changed", "tier.changed", "points.expiring", "points.expired")


def _check_events(data: Any, problems: list[tuple[str, str]]) -> None:
    if data is None:
        return
    if not isinstance(data, list):
        problems.append(("events", "must be a list of [[events]] tables"))
        return
    for index, item in enumerate(data):
        reader = TableReader(item, f"events[{index}]", problems)
        url = reader.string("url", required=True)  # the rest is checked on apply: see below
        if url and not url.startswith(("https://", "http://")):
            reader.fail("url", "must be an http(s) URL")
        elif url and len(url) > MAX_URL:
            reader.fail("url", f"at most {MAX_URL} characters")
        reader.string("secret", required=True)
        types = reader.raw("types")
        if types is not None and (
            not isinstance(types, list) or not all(t in EVENT_TYPES for t in types)
        ):
            reader.fail("types", f"a list of {', '.join(EVENT_TYPES)}")
        reader.finish()


def event_url_problems(document: dict[str, Any], *, dev: bool) -> list[tuple[str, str]]:
    """Where events may go (walletcards/outbound/destinations.py): a well-formed URL, and
    outside development https and no literal loopback/private/... address. Checked when a
    programme is applied, not when a stored one is read back (a programme stored before a
    rule existed keeps working; its deliveries are refused, checked again after resolving)."""
    events = document.get("events")
    problems = []
    for index, item in enumerate(events if isinstance(events, list) else []):
        url = item.get("url") if isinstance(item, dict) else None
        problem = url_problem(url, dev=dev) if isinstance(url, str) else None
        if problem is not None:
            problems.append((f"events[{index}].url", problem))
    return problems
