"""Programme files (TOML): parse and validate into typed rules; every error names its field.

The pinned tables (`[webhooks]`, `[apple]`, `[google]`) follow ARCHITECTURE.md; the rules tables
(`[earning]`, `[hold]`, `[expiry]`, `[welcome]`, `[every_nth]`, `[birthday]`, `[limits]`,
`[tiers]`) are documented in README.md with examples/demo.toml.
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from walletcards.loyalty.config_money import check_cashback, read_point_value, read_rate
from walletcards.loyalty.config_reader import TableReader
from walletcards.money import MoneyError, is_currency_code, to_minor

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
QUALIFY_BY = ("lifetime_spend", "window_spend", "paid_orders")
PERIODS = ("lifetime", "requalify")
LOCALES = ("en", "ru", "zh")


class ProgramConfigError(ValueError):
    """A programme file that cannot be applied; ``problems`` lists (field, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {what}" for where, what in problems))


@dataclass(frozen=True)
class EarningRule:
    points_per_unit: Decimal
    include_shipping: bool
    include_tax: bool
    exclude_brands: frozenset[str]
    exclude_skus: frozenset[str]
    exclude_product_types: frozenset[str]
    cashback_percent: Decimal | None = None  # instead of points_per_unit (config_money.py)


@dataclass(frozen=True)
class BonusRule:
    points: int
    expires_days: int | None


@dataclass(frozen=True)
class EveryNthRule:
    orders: int
    points: int


@dataclass(frozen=True)
class Tier:
    code: str
    name: str
    threshold: int  # paid orders, or minor units of spend
    points_per_unit: Decimal | None
    cashback_percent: Decimal | None = None


@dataclass(frozen=True)
class TierRules:
    qualify_by: Literal["lifetime_spend", "window_spend", "paid_orders"]
    window_days: int
    period: Literal["lifetime", "requalify"]
    requalify_months: int
    levels: tuple[Tier, ...]


@dataclass(frozen=True)
class ProgramRules:
    currency: str
    earning: EarningRule
    point_value: Decimal | None  # currency per point; None: points show no money value
    hold_days: int
    expiry_days: int | None
    expiry_warn_days: int
    welcome: BonusRule | None
    every_nth: EveryNthRule | None
    birthday: BonusRule | None
    max_points_per_entry: int
    max_points_per_order: int
    tiers: TierRules | None
    timezone: str = "UTC"
    cashier_redeem_limit: int | None = None  # points a cashier (not a manager) may redeem at once
    redeem_by_lookup: bool = False  # cashiers may redeem by a typed number, email or phone


@dataclass(frozen=True)
class ProgramConfig:
    slug: str
    name: str
    currency: str
    locale: str
    test_mode: bool
    rules: ProgramRules
    document: dict[str, Any]  # the validated file, stored as the programme's config


def load_program_file(path: str | Path) -> ProgramConfig:
    try:
        with open(path, "rb") as fh:
            document = tomllib.load(fh)
    except OSError as exc:
        raise ProgramConfigError([(str(path), f"cannot read: {exc.strerror}")]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProgramConfigError([(str(path), f"not valid TOML: {exc}")]) from exc
    return parse_program(document)


def parse_program(document: dict[str, Any]) -> ProgramConfig:
    """Validate a whole programme document; raises ProgramConfigError listing every problem."""
    problems: list[tuple[str, str]] = []
    top = TableReader(document, "", problems)
    slug = top.string("slug", required=True) or ""
    if slug and not SLUG_RE.match(slug):
        top.fail("slug", "use lower-case letters, digits and '-' (at most 63)")
    name = top.string("name", required=True) or ""
    currency = top.string("currency", required=True) or "USD"
    if not is_currency_code(currency):
        top.fail("currency", "must be an ISO 4217 code in capitals, e.g. USD")
        currency = "USD"
    locale = top.string("locale", "en") or "en"
    if locale not in LOCALES:
        top.fail("locale", f"must be one of {', '.join(LOCALES)}")
    test_mode = top.boolean("test_mode", False)
    timezone = top.string("timezone", "UTC") or "UTC"
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        top.fail("timezone", f"{timezone!r} is not an IANA time zone (e.g. Europe/Moscow)")
        timezone = "UTC"
    _check_secrets(top.raw("webhooks"), problems)
    _check_apple(top.raw("apple"), problems)
    _check_google(top.raw("google"), problems)
    _check_email(top.raw("email"), problems)
    _check_events(top.raw("events"), problems)
    rules = parse_rules(top, currency, problems)
    rules = replace(rules, timezone=timezone)
    top.finish()
    if problems:
        raise ProgramConfigError(problems)
    return ProgramConfig(slug, name, currency, locale, test_mode, rules, document)


def parse_rules(top: TableReader, currency: str, problems: list[tuple[str, str]]) -> ProgramRules:
    earning = TableReader(top.raw("earning"), "earning", problems)
    per_unit, percent = read_rate(earning, required=True)
    rule = EarningRule(
        points_per_unit=per_unit or Decimal(0),
        include_shipping=earning.boolean("include_shipping", False),
        include_tax=earning.boolean("include_tax", False),
        exclude_brands=earning.strings("exclude_brands"),
        exclude_skus=earning.strings("exclude_skus"),
        exclude_product_types=earning.strings("exclude_product_types"),
        cashback_percent=percent,
    )
    earning.finish()
    redemption = TableReader(top.raw("redemption"), "redemption", problems)
    point_value = read_point_value(redemption)
    allow_lookup = redemption.boolean("allow_lookup", False)
    redemption.finish()
    hold = TableReader(top.raw("hold"), "hold", problems)
    hold_days = hold.integer("days", 0, high=365) or 0
    hold.finish()
    expiry = TableReader(top.raw("expiry"), "expiry", problems)
    expiry_days = expiry.integer("days", None, low=1, high=3650)
    warn_days = expiry.integer("warn_days", 0, high=365) or 0
    if expiry_days is not None and warn_days >= expiry_days:
        expiry.fail("warn_days", "must be smaller than expiry.days")
    expiry.finish()
    limits = TableReader(top.raw("limits"), "limits", problems)
    per_entry = limits.integer("max_points_per_entry", 100_000, low=1) or 100_000
    per_order = limits.integer("max_points_per_order", per_entry, low=1) or per_entry
    limits.finish()
    welcome = _bonus(top.raw("welcome"), "welcome", problems, per_entry)
    birthday = _bonus(top.raw("birthday"), "birthday", problems, per_entry)
    every_nth = None
    if top.raw("every_nth") is not None:
        nth = TableReader(top.raw("every_nth"), "every_nth", problems)
        orders = nth.integer("orders", None, low=2, high=1000, required=True)
        points = nth.integer("points", None, low=1, required=True)
        _under_cap(nth, "points", points, per_entry)
        nth.finish()
        if orders and points:
            every_nth = EveryNthRule(orders, points)
    tiers = _tiers(top.raw("tiers"), currency, problems)
    levels = tiers.levels if tiers else ()
    check_cashback(
        problems,
        point_value,
        [("earning", percent)]
        + [(f"tiers.levels[{i}]", level.cashback_percent) for i, level in enumerate(levels)],
    )
    cashier = TableReader(top.raw("cashier"), "cashier", problems)
    redeem_limit = cashier.integer("max_redeem_points", None, low=1)
    cashier.finish()
    return ProgramRules(
        currency=currency,
        earning=rule,
        point_value=point_value,
        hold_days=hold_days,
        expiry_days=expiry_days,
        expiry_warn_days=warn_days,
        welcome=welcome,
        every_nth=every_nth,
        birthday=birthday,
        max_points_per_entry=per_entry,
        max_points_per_order=per_order,
        tiers=tiers,
        cashier_redeem_limit=redeem_limit,
        redeem_by_lookup=allow_lookup,
    )


def _under_cap(reader: TableReader, key: str, points: int | None, cap: int) -> None:
    if points is not None and points > cap:
        reader.fail(key, f"{points} is above limits.max_points_per_entry ({cap})")


def _bonus(data: Any, path: str, problems: list[tuple[str, str]], cap: int) -> BonusRule | None:
    if data is None:
        return None
    reader = TableReader(data, path, problems)
    points = reader.integer("points", None, low=1, required=True)
    _under_cap(reader, "points", points, cap)
    expires = reader.integer("expires_days", None, low=1, high=3650)
    reader.finish()
    return BonusRule(points, expires) if points else None


def _tiers(data: Any, currency: str, problems: list[tuple[str, str]]) -> TierRules | None:
    if data is None:
        return None
    reader = TableReader(data, "tiers", problems)
    qualify_by = reader.string("qualify_by", required=True) or "paid_orders"
    if qualify_by not in QUALIFY_BY:
        reader.fail("qualify_by", f"must be one of {', '.join(QUALIFY_BY)}")
        qualify_by = "paid_orders"
    window_days = reader.integer("window_days", 365, low=1, high=3650) or 365
    period = reader.string("period", "lifetime") or "lifetime"
    if period not in PERIODS:
        reader.fail("period", f"must be one of {', '.join(PERIODS)}")
        period = "lifetime"
    months = reader.integer("requalify_months", 12, low=1, high=120) or 12
    raw_levels = reader.raw("levels")
    levels: list[Tier] = []
    if not isinstance(raw_levels, list) or not raw_levels:
        reader.fail("levels", "must be a non-empty list of [[tiers.levels]]")
        raw_levels = []
    for index, raw in enumerate(raw_levels):
        level = TableReader(raw, f"tiers.levels[{index}]", problems)
        code = level.string("code", required=True) or ""
        if code and not SLUG_RE.match(code):
            level.fail("code", "use lower-case letters, digits and '-'")
        name = level.string("name", required=True) or code
        rate, percent = read_rate(level, required=False)
        threshold = _threshold(level, qualify_by, currency)
        level.finish()
        if threshold is not None and levels and threshold <= levels[-1].threshold:
            level.fail("threshold", "thresholds must strictly increase from level to level")
        if any(t.code == code for t in levels):
            level.fail("code", f"duplicate tier code {code!r}")
        levels.append(Tier(code, name, threshold or 0, rate, percent))
    reader.finish()
    return TierRules(qualify_by, window_days, period, months, tuple(levels))  # type: ignore[arg-type]


def _threshold(level: TableReader, qualify_by: str, currency: str) -> int | None:
    if qualify_by == "paid_orders":
        return level.integer("threshold", None, low=0, high=100_000, required=True)
    amount = level.decimal("threshold", None, required=True)
    if amount is None:
        return None
    try:
        return to_minor(amount, currency)
    except MoneyError as exc:
        level.fail("threshold", str(exc))
        return None


def _check_secrets(data: Any, problems: list[tuple[str, str]]) -> None:
    if data is None:
        return
    reader = TableReader(data, "webhooks", problems)
    for key in (
        "shopify_secret",
        "shopify_previous_secret",
        "woocommerce_secret",
        "woocommerce_previous_secret",
        "orders_secret",
        "orders_previous_secret",
    ):
        value = reader.string(key)
        if value and value.startswith("env:") and not re.fullmatch(r"env:[A-Z_][A-Z0-9_]*", value):
            reader.fail(key, 'an environment reference looks like "env:NAME_IN_CAPITALS"')
    reader.finish()


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
        url = reader.string("url", required=True)
        if url and not url.startswith(("https://", "http://")):
            reader.fail("url", "must be an http(s) URL")
        reader.string("secret", required=True)
        types = reader.raw("types")
        if types is not None and (
            not isinstance(types, list) or not set(types) <= set(EVENT_TYPES)
        ):
            reader.fail("types", f"a list of {', '.join(EVENT_TYPES)}")
        reader.finish()
