"""The migration import's CSV, read and checked row by row (writing is ``importer.py``).

Header: ``external_id,email,phone,name,birthday,language,points,note`` (any subset naming a
customer: an id, an email or a phone) with ``points`` (opening points) and/or
``discount_level`` mapped by ``--map`` (to points) and ``--map-tier`` (to tiers). Customer ids
are the shop's own: ``--source`` names the shop, and the id is stored the way that shop's
webhooks name the customer (``orders/identity.py``), so the customer's next order finds them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from walletcards.loyalty.cards import phone_key
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_config, program_rules, webhook_shop
from walletcards.orders.identity import customer_external_id, order_source
from walletcards.orders.sources import SOURCES

COLUMNS = ("external_id", "email", "phone", "name", "birthday", "language", "note")
KNOWN = frozenset((*COLUMNS, "points", "discount_level"))
# column sizes (loyalty/models.py): longer values are refused by row, never cut
LIMITS = {"external_id": 200, "email": 320, "phone": 40, "name": 200}
MAX_KEY = 255  # ledger_entries.idempotency_key


@dataclass(frozen=True)
class Options:
    source: str | None = None  # the order source the file's customer ids come from
    languages: tuple[str, ...] = ()  # the programme's languages (the language column's values)
    points: dict[str, int] = field(default_factory=dict)  # discount_level -> points (--map)
    tiers: dict[str, str] = field(default_factory=dict)  # discount_level -> tier (--map-tier)


@dataclass
class Row:
    number: int  # the line in the file (header = 1)
    key: str
    points: int
    tier: str | None
    values: dict[str, Any]


@dataclass
class Plan:
    rows: list[Row] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    already: int = 0

    @property
    def total(self) -> int:
        return sum(row.points for row in self.rows)

    def largest(self, n: int = 5) -> list[Row]:
        return sorted(self.rows, key=lambda row: row.points, reverse=True)[:n]


def parse_mapping(text: str | None) -> dict[str, str]:
    """ "5=500,10=gold" -> {"5": "500", "10": "gold"}."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if part.strip():
            level, equals, target = part.partition("=")
            if not equals or not level.strip() or not target.strip():
                raise ValueError(f"{part.strip()!r} is not LEVEL=VALUE")
            mapping[level.strip()] = target.strip()
    return mapping


def options(
    program: Program,
    platform: str | None,
    shop: str | None,
    points_map: str | None,
    tier_map: str | None,
) -> Options:
    """The command line's options, checked against the programme; ValueError names the option."""
    source = None
    if platform is not None:
        if platform not in SOURCES:
            raise ValueError(f"--source: one of {', '.join(SOURCES)}")
        if SOURCES[platform].pin_key is None and shop:
            pinned = (name for name, source in SOURCES.items() if source.pin_key)
            raise ValueError(f"--shop: only for --source {' or '.join(pinned)}")
        source = order_source(platform, _shop(program, platform, shop))
    elif shop:
        raise ValueError("--shop: name the shop's platform with --source too")
    try:
        points = {level: int(value) for level, value in parse_mapping(points_map).items()}
    except ValueError as exc:
        raise ValueError(f'--map: LEVEL=POINTS, e.g. "5=500,10=1000" ({exc})') from exc
    if any(value < 0 for value in points.values()):
        raise ValueError("--map: points cannot be negative")
    try:
        tiers = parse_mapping(tier_map)
    except ValueError as exc:
        raise ValueError(f'--map-tier: LEVEL=TIER, e.g. "5=silver,10=gold" ({exc})') from exc
    levels = program_rules(program).tiers
    codes = [level.code for level in levels.levels] if levels else []
    unknown = sorted(set(tiers.values()) - set(codes))
    if unknown:
        known = ", ".join(codes) or "none: the programme has no [tiers]"
        raise ValueError(f"--map-tier: no tier {unknown[0]!r} in the programme (tiers: {known})")
    return Options(source, program_config(program).languages, points, tiers)


def _shop(program: Program, platform: str, shop: str | None) -> str:
    """The shop the ids come from: the one the programme pins for ``platform`` ([webhooks],
    loyalty/programs.webhook_shop), which ``--shop`` may repeat but not contradict."""
    source = SOURCES[platform]
    if source.pin_key is None:
        return ""
    pinned = webhook_shop(program, platform)
    if shop is None:
        if pinned is None:
            raise ValueError(
                f"--shop: the {platform} shop the ids come from (the programme pins none in "
                f"[webhooks] {source.pin_key})"
            )
        return pinned
    try:
        given = source.canonical_shop(shop)
    except ValueError as exc:
        raise ValueError(f"--shop: {exc}") from exc
    if pinned is not None and given != pinned:
        raise ValueError(
            f"--shop: {given!r} is not the shop the programme pins "
            f"([webhooks] {source.pin_key} = {pinned!r})"
        )
    return given


def read(path: Path, program: Program, chosen: Options) -> Plan:
    plan = Plan()
    cap = program_rules(program).max_points_per_entry
    seen: set[str] = set()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        _check_header(set(reader.fieldnames or []), chosen)
        for number, raw in enumerate(reader, start=2):
            problem, row = _row(number, raw, chosen, cap, program.slug)
            if problem:
                plan.rejected.append((number, problem))
            elif row is not None:
                if row.key in seen:
                    plan.rejected.append((number, "the same customer appears earlier in the file"))
                    continue
                seen.add(row.key)
                plan.rows.append(row)
    return plan


def _check_header(fields: set[str], chosen: Options) -> None:
    unknown = sorted(fields - KNOWN)
    if unknown:
        raise ValueError(f"unknown column {unknown[0]!r} (the columns: {', '.join(sorted(KNOWN))})")
    if "discount_level" not in fields and (chosen.points or chosen.tiers):
        raise ValueError("--map and --map-tier map the discount_level column, which is missing")
    if "points" not in fields and not (chosen.points or chosen.tiers):
        raise ValueError("the header needs a points column, or discount_level with --map")
    if not {"external_id", "email", "phone"} & fields:
        raise ValueError("the header needs an external_id, an email or a phone column")
    if "external_id" in fields and chosen.source is None:
        raise ValueError(
            "external_id holds the shop's customer ids: name the shop with --source "
            "shopify|woocommerce|orders (and --shop), so the customer's next order finds them"
        )


def _row(
    number: int, raw: dict[str, Any], chosen: Options, cap: int, slug: str
) -> tuple[str | None, Row | None]:
    if None in raw:
        return "more fields than the header", None
    values: dict[str, Any] = {k: (raw.get(k) or "").strip() or None for k in COLUMNS}
    for column, limit in LIMITS.items():
        if values[column] and len(values[column]) > limit:
            return f"{column} is longer than {limit} characters", None
    if values["email"]:
        values["email"] = values["email"].lower()
        if "@" not in values["email"]:
            return f"email {values['email']!r} is not an address", None
    values["phone_key"] = phone_key(values["phone"])  # None: kept, but never matched on
    if values["external_id"] and chosen.source:
        prefix = customer_external_id(chosen.source, "")
        if not values["external_id"].startswith(prefix):  # ids written out in full still fit
            values["external_id"] = prefix + values["external_id"]
        if len(values["external_id"]) > LIMITS["external_id"]:
            return f"external_id is longer than {LIMITS['external_id']} characters", None
    language = values.pop("language")
    values["locale"] = language and language.replace("_", "-").split("-")[0].lower()
    if language and values["locale"] not in chosen.languages:
        known = ", ".join(chosen.languages)
        return f"language {language!r} is not one of the programme's ({known})", None
    if values["birthday"]:
        try:
            values["birthday"] = date.fromisoformat(values["birthday"])
        except ValueError:
            return f"birthday {values['birthday']!r} is not YYYY-MM-DD", None
    level = str(raw.get("discount_level") or "").strip()
    if raw.get("points") not in (None, ""):
        text = str(raw["points"]).strip()
        if not text.isdigit():
            return f"points {text!r} is not a whole number", None
        points = int(text)
    elif chosen.points:
        if level not in chosen.points:
            return f"discount_level {level!r} has no mapping (--map)", None
        points = chosen.points[level]
    elif chosen.tiers:
        points = 0  # tiers only
    else:
        return "points is empty", None
    if points > cap:
        return f"{points} points is above the programme's limit of {cap} per entry", None
    for column, kind in (("external_id", "ext"), ("email", "email"), ("phone_key", "phone")):
        if values[column]:
            key = f"import:{slug}:{kind}:{values[column]}"
            if len(key) > MAX_KEY:
                return f"{column} is too long to key the import by", None
            return None, Row(number, key, points, chosen.tiers.get(level), values)
    return "neither external_id, email nor phone (6 digits or more)", None
