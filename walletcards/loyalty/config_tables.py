"""The programme file's service tables, typed: ``[apple]``, ``[google]``, ``[email]``,
``[[events]]`` and ``[webhooks]`` (read in config_webhooks.py), each checked and built once
when the file is parsed, so no reader looks into the raw document again.

A secret is written as the value itself or as ``"env:NAME"`` (:class:`ProgramSecret`). The
reference is parsed with the file; the value is read from this process's environment when it
is used, so a variable set after the programme was loaded counts from then on (a delivery
answered 503 for want of it applies on the shop's retry) and an unset one is named by the
start-up check, the 503 and readiness alike.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from walletcards.loyalty.config_card import Location, read_locations, read_max_distance
from walletcards.loyalty.config_reader import TableReader
from walletcards.outbound.destinations import MAX_URL

Problems = list[tuple[str, str]]
EVENT_TYPES = (
    "card.issued",
    "points.changed",
    "tier.changed",
    "points.expiring",
    "points.expired",
    "customer.erased",
)
COLOUR_KEYS = ("background_color", "foreground_color", "label_color")
_COLOUR = re.compile(r"#([0-9a-fA-F]{6})|rgb\((\d{1,3}), ?(\d{1,3}), ?(\d{1,3})\)")


@dataclass(frozen=True, repr=False)
class ProgramSecret:
    """A secret as the programme file writes it: the value, or ``"env:NAME"``. Its repr
    shows a reference (a variable's name is no secret) but never a literal value."""

    reference: str

    @classmethod
    def of(cls, value: object) -> ProgramSecret | None:
        """The secret a file's value names; None for a missing or empty one."""
        return cls(value) if isinstance(value, str) and value else None

    @property
    def variable(self) -> str | None:
        """The environment variable named by an ``env:`` reference (None for a literal)."""
        return self.reference[4:] if self.reference.startswith("env:") else None

    def reveal(self) -> str | None:
        """The value now: the literal, or the variable's value (None while it is unset)."""
        variable = self.variable
        return self.reference if variable is None else os.environ.get(variable) or None

    def unset_variable(self) -> str | None:
        """The variable this secret names when it is not set here (else None)."""
        return self.variable if self.variable is not None and self.reveal() is None else None

    def __repr__(self) -> str:
        shown = self.reference if self.variable is not None else "**********"
        return f"ProgramSecret({shown!r})"

    __str__ = __repr__


def reveal(secret: ProgramSecret | None) -> str | None:
    return secret.reveal() if secret is not None else None


@dataclass(frozen=True)
class Colour:
    """A pass colour as written (``"#rrggbb"`` or ``"rgb(r, g, b)"``, a CSS colour either
    way), with the forms Apple Wallet and Google Wallet each accept."""

    text: str
    red: int
    green: int
    blue: int

    @classmethod
    def parse(cls, text: str) -> Colour | None:
        found = _COLOUR.fullmatch(text)
        if found is None:
            return None
        hexa, *decimals = found.groups()
        if hexa is not None:
            red, green, blue = (int(hexa[i : i + 2], 16) for i in (0, 2, 4))
        else:
            red, green, blue = (int(value) for value in decimals)
        return cls(text, red, green, blue)

    @property
    def wallet(self) -> str:
        """Apple's form, ``rgb(r, g, b)`` (the only one Wallet accepts)."""
        return self.text if self.text.startswith("rgb(") else self._rgb()

    @property
    def hex(self) -> str:
        """Google's form, ``#rrggbb``."""
        return self.text if self.text.startswith("#") else self._hex()

    def _rgb(self) -> str:
        return f"rgb({self.red}, {self.green}, {self.blue})"

    def _hex(self) -> str:
        return f"#{self.red:02x}{self.green:02x}{self.blue:02x}"


@dataclass(frozen=True)
class AppleTable:
    pass_type_identifier: str
    team_identifier: str
    certificate: str
    private_key: str
    wwdr_certificate: str
    private_key_password: ProgramSecret | None = None
    images_dir: str | None = None
    apns_key_file: str | None = None  # token auth (.p8) with apns_key_id
    apns_key_id: str | None = None
    colours: Mapping[str, Colour] = field(default_factory=dict)  # by key, those the file sets
    locations: tuple[Location, ...] = ()  # the lock screen offers the pass near these
    max_distance: int | None = None  # metres (config_card.py)

    def password(self) -> str | None:
        """The private key's password now (None: unencrypted key, or the variable unset)."""
        return reveal(self.private_key_password)


@dataclass(frozen=True)
class GoogleTable:
    issuer_id: str
    service_account_file: str
    rotating_barcode: bool = False


@dataclass(frozen=True)
class EmailTable:
    sender: str  # ``from``
    reply_to: str | None = None
    enabled: bool = True


@dataclass(frozen=True)
class EventEndpoint:
    url: str
    secret: ProgramSecret
    types: tuple[str, ...] | None = None  # None: every type

    def wants(self, kind: str) -> bool:
        return self.types is None or kind in self.types


@dataclass(frozen=True)
class WebhookSource:
    secret: ProgramSecret | None = None
    previous_secret: ProgramSecret | None = None  # accepted during a rotation
    shop: str | None = None  # the pinned shop, canonical (config_webhooks.canonical_shop)


@dataclass(frozen=True)
class WebhooksTable:
    sources: Mapping[str, WebhookSource] = field(default_factory=dict)

    def source(self, name: str) -> WebhookSource:
        return self.sources.get(name) or WebhookSource()


def read_apple(data: Any, problems: Problems) -> AppleTable | None:
    if data is None:
        return None
    before = len(problems)
    reader = TableReader(data, "apple", problems)
    ptid = reader.string("pass_type_identifier", required=True)
    if ptid and not ptid.startswith("pass."):
        reader.fail("pass_type_identifier", 'starts with "pass." (e.g. pass.com.example.demo)')
    team = reader.string("team_identifier", required=True)
    if team and not re.fullmatch(r"[A-Z0-9]{10}", team):
        reader.fail("team_identifier", "is 10 capital letters or digits")
    certificate, private_key, wwdr = (
        reader.string(key, required=True) or ""
        for key in ("certificate", "private_key", "wwdr_certificate")
    )
    password, images, key_file, key_id = (
        reader.string(key)
        for key in ("private_key_password", "images_dir", "apns_key_file", "apns_key_id")
    )
    if bool(reader.raw("apns_key_file")) != bool(reader.raw("apns_key_id")):
        reader.fail("apns_key_id", "token auth needs both apns_key_file (.p8) and apns_key_id")
    colours = {}
    for key in COLOUR_KEYS:
        text = reader.string(key)
        colour = Colour.parse(text) if text else None
        if text and colour is None:
            reader.fail(key, 'use "#rrggbb" or "rgb(r, g, b)"')
        elif colour is not None:
            colours[key] = colour
    locations, max_distance = read_locations(reader), read_max_distance(reader)
    reader.finish()
    if len(problems) > before:
        return None
    return AppleTable(
        ptid or "",
        team or "",
        certificate,
        private_key,
        wwdr,
        ProgramSecret.of(password),
        images,
        key_file,
        key_id,
        colours,
        locations,
        max_distance,
    )


def read_google(data: Any, problems: Problems) -> GoogleTable | None:
    if data is None:
        return None
    before = len(problems)
    reader = TableReader(data, "google", problems)
    issuer = reader.string("issuer_id", required=True) or ""
    if issuer and not issuer.isdigit():
        reader.fail("issuer_id", "is the issuer's numeric id, as a string")
    service_account = reader.string("service_account_file", required=True) or ""
    rotating = reader.boolean("rotating_barcode", False)
    reader.finish()
    return None if len(problems) > before else GoogleTable(issuer, service_account, rotating)


def read_email(data: Any, problems: Problems) -> EmailTable | None:
    if data is None:
        return None
    before = len(problems)
    reader = TableReader(data, "email", problems)
    enabled = reader.boolean("enabled", True)
    sender = reader.string("from", required=True) or ""
    if sender and "@" not in sender:
        reader.fail("from", 'an address, e.g. "Demo Coffee <cards@demo.example>"')
    reply_to = reader.string("reply_to")
    reader.finish()
    return None if len(problems) > before else EmailTable(sender, reply_to, enabled)


def read_events(data: Any, problems: Problems) -> tuple[EventEndpoint, ...]:
    """``[[events]]``; where each may send is checked on apply (config.event_url_problems)."""
    if data is None:
        return ()
    if not isinstance(data, list):
        problems.append(("events", "must be a list of [[events]] tables"))
        return ()
    endpoints = []
    for index, item in enumerate(data):
        before = len(problems)
        reader = TableReader(item, f"events[{index}]", problems)
        url = reader.string("url", required=True) or ""
        if url and not url.startswith(("https://", "http://")):
            reader.fail("url", "must be an http(s) URL")
        elif url and len(url) > MAX_URL:
            reader.fail("url", f"at most {MAX_URL} characters")
        secret = ProgramSecret.of(reader.string("secret", required=True))
        types = reader.raw("types")
        if types is not None and (
            not isinstance(types, list) or not all(t in EVENT_TYPES for t in types)
        ):
            reader.fail("types", f"a list of {', '.join(EVENT_TYPES)}")
        reader.finish()
        if len(problems) == before and secret is not None:
            wanted = None if types is None else tuple(types)
            endpoints.append(EventEndpoint(url, secret, wanted))
    return tuple(endpoints)


def env_references(value: Any, where: str = "") -> Iterator[tuple[str, ProgramSecret]]:
    """Every ``(field, "env:NAME")`` in a programme document, wherever one is written (the
    start-up check names each whose variable is not set)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from env_references(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from env_references(item, f"{where}[{index}]")
    elif isinstance(value, str) and value.startswith("env:"):
        yield where, ProgramSecret(value)
