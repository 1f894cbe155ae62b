"""Programme files (TOML): parse and validate into typed rules; every error names its field.

The pinned tables (`[webhooks]`, see config_webhooks.py, `[apple]`, `[google]`) follow
docs/architecture.md and are typed once here (with `[email]` and `[[events]]`, see
config_tables.py, and the shops' admin APIs `[shopify]`, `[woocommerce]`, config_shops.py);
the rules tables (`[earning]`, `[hold]`, `[expiry]`, `[welcome]`, `[every_nth]`, `[birthday]`,
`[limits]`, `[tiers]`) are read by :mod:`walletcards.loyalty.config_rules` and documented in
README.md with examples/demo.toml; `[[campaigns]]` by config_campaigns.py (docs/campaigns.md).
"""

from __future__ import annotations

import tomllib
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from walletcards.i18n import LANGUAGES
from walletcards.loyalty.config_campaigns import Campaign, plain_dates, read_campaigns
from walletcards.loyalty.config_card import CardTable, read_card
from walletcards.loyalty.config_join import JoinTable, read_join
from walletcards.loyalty.config_messages import MessagesTable, read_messages
from walletcards.loyalty.config_reader import TableReader
from walletcards.loyalty.config_referral import ReferralTable, read_referral
from walletcards.loyalty.config_rules import CODE_RE as SLUG_RE
from walletcards.loyalty.config_rules import ProgramRules, parse_rules
from walletcards.loyalty.config_segments import RFM_GROUPS, SegmentRule, read_segments
from walletcards.loyalty.config_shops import (
    ShopifyTable,
    WooCommerceTable,
    read_shopify,
    read_woocommerce,
)
from walletcards.loyalty.config_tables import (
    AppleTable,
    EmailTable,
    EventEndpoint,
    GoogleTable,
    ProgramSecret,
    WebhooksTable,
    env_references,
    read_apple,
    read_email,
    read_events,
    read_google,
)
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
from walletcards.outbound.destinations import url_problem

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
    # the validated file, stored as the programme's config (out of repr: literal secrets)
    document: dict[str, Any] = field(repr=False)
    languages: tuple[str, ...] = LANGUAGES  # offered; ``locale`` is the default
    names: Names = ()  # the programme's name per language, when the file gives a table
    # the service tables, typed (config_tables.py); None or empty: the file has none
    apple: AppleTable | None = None
    google: GoogleTable | None = None
    email: EmailTable | None = None
    events: tuple[EventEndpoint, ...] = ()
    webhooks: WebhooksTable = field(default_factory=WebhooksTable)
    references: tuple[tuple[str, ProgramSecret], ...] = ()  # every env: reference, by field
    shopify: ShopifyTable | None = None  # the shops' admin APIs (config_shops.py)
    woocommerce: WooCommerceTable | None = None
    join: JoinTable | None = None  # the sign-up page (config_join.py); None: no sign-up page
    segments: tuple[SegmentRule, ...] = ()  # the owner's rule segments (config_segments.py)
    campaigns: tuple[Campaign, ...] = ()  # [[campaigns]] (config_campaigns.py)
    referral: ReferralTable | None = None  # [referral] (config_referral.py); None: no referrals
    messages: MessagesTable = field(default_factory=MessagesTable)  # [messages]
    card: CardTable = field(default_factory=CardTable)  # [card] texts (config_card.py)

    def name_in(self, lang: str) -> str:
        return name_in(self.name, self.names, lang)


def load_program_file(path: str | Path) -> ProgramConfig:
    try:
        with open(path, "rb") as fh:
            document = plain_dates(tomllib.load(fh))  # stored as JSON: dates as ISO text
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
    webhooks = check_webhooks(top.raw("webhooks"), problems, require_pins=not stored)
    apple = read_apple(top.raw("apple"), problems)
    google = read_google(top.raw("google"), problems)
    email = read_email(top.raw("email"), problems)
    events = read_events(top.raw("events"), problems)
    shopify = read_shopify(top.raw("shopify"), webhooks, problems)
    woocommerce = read_woocommerce(top.raw("woocommerce"), webhooks, problems)
    join = read_join(top.raw("join"), problems)
    if join and join.enabled and not (email and email.enabled):
        problems.append(("join", "the sign-up page sends emails: needs [email] enabled"))
    rules = parse_rules(top, currency, problems)
    rules = name_tiers(replace(rules, timezone=timezone), languages, locale, problems)
    segments = read_segments(top.raw("segments"), currency, problems)
    tier_codes = {level.code for level in rules.tiers.levels} if rules.tiers else set()
    for index, segment in enumerate(segments):
        for unknown in sorted(segment.tiers - tier_codes):
            problems.append((f"segments[{index}].tiers", f"no tier {unknown!r}"))
    campaigns = read_campaigns(top.raw("campaigns"), rules, languages, locale, problems)
    known = {"all", *RFM_GROUPS, *(segment.code for segment in segments)}
    for index, campaign in enumerate(campaigns):
        if campaign.segment is not None and campaign.segment not in known:
            problems.append((f"campaigns[{index}].segment", f"no segment {campaign.segment!r}"))
    referral = read_referral(top.raw("referral"), currency, problems)
    if referral and referral.friend_discount_minor and shopify is None and woocommerce is None:
        problems.append(
            (
                "referral.friend_reward",
                "a discount code is made in the shop: needs [shopify] or [woocommerce]",
            )
        )
    messages = read_messages(top.raw("messages"), problems)
    card = read_card(top.raw("card"), languages, locale, problems)
    top.finish()
    if problems:
        raise ProgramConfigError(problems)
    return ProgramConfig(
        slug,
        name,
        currency,
        locale,
        test_mode,
        rules,
        document,
        languages,
        names,
        apple,
        google,
        email,
        events,
        webhooks,
        tuple(env_references(document)),
        shopify,
        woocommerce,
        join,
        segments,
        campaigns,
        referral,
        messages,
        card,
    )


def event_url_problems(events: Sequence[EventEndpoint], *, dev: bool) -> list[tuple[str, str]]:
    """Where events may go (walletcards/outbound/destinations.py): a well-formed URL, and
    outside development https and no literal loopback/private/... address. Checked when a
    programme is applied, not when a stored one is read back (a programme stored before a
    rule existed keeps working; its deliveries are refused, checked again after resolving)."""
    problems = []
    for index, endpoint in enumerate(events):
        problem = url_problem(endpoint.url, dev=dev)
        if problem is not None:
            problems.append((f"events[{index}].url", problem))
    return problems
