"""What the card tells beside the balance: ``[card]`` texts and ``[apple]`` places.

``[card] terms``, ``contact``, ``website`` and ``how_to_earn``: each a string (the same in every
language) or a table by language ``{en = "…", ru = "…"}`` (the programme's languages only, its
default one required, like names: names.py). They show on the pass's back, on the Google card
(text and link modules) and on the card page, in the card's language. ``website`` is an
http(s) URL.

``[apple] locations = [{latitude, longitude, relevant_text}]`` (at most 10, Apple's limit) and
``max_distance`` (metres): near one of the places, the lock screen offers the pass, with the
place's ``relevant_text`` (read by config_tables.read_apple).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from walletcards.i18n import LANGUAGES
from walletcards.loyalty.config_reader import MAX_STRING, TableReader
from walletcards.loyalty.names import Names
from walletcards.outbound.destinations import MAX_URL

Problems = list[tuple[str, str]]
MAX_LOCATIONS = 10  # Apple's limit on a pass's locations
MAX_RELEVANT_TEXT = 100
MAX_DISTANCE = 10_000  # metres; Wallet uses the smaller of this and its own default anyway
MAX_NUMBER_TEXT = 32  # a coordinate written as a string
# [card] keys and the most characters of each
CARD_TEXTS = {"terms": MAX_STRING, "contact": 300, "website": MAX_URL, "how_to_earn": 1000}


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    relevant_text: str | None = None


@dataclass(frozen=True)
class CardInfo:
    """The ``[card]`` texts in one language (None: not given)."""

    terms: str | None = None
    contact: str | None = None
    website: str | None = None
    how_to_earn: str | None = None


@dataclass(frozen=True)
class CardTable:
    """The ``[card]`` texts: per key, the text by language (the default language's first)."""

    texts: tuple[tuple[str, Names], ...] = ()

    def info(self, lang: str) -> CardInfo:
        """The texts in ``lang``; the default language's where one is not given in it."""
        found = {}
        for key, by_language in self.texts:
            chosen = dict(by_language)
            found[key] = chosen.get(lang, by_language[0][1])
        return CardInfo(**found)


def read_card(data: Any, languages: tuple[str, ...], default: str, problems: Problems) -> CardTable:
    if data is None:
        return CardTable()
    reader = TableReader(data, "card", problems)
    texts = []
    for key, longest in CARD_TEXTS.items():
        by_language = _text(reader, key, longest, languages, default)
        if by_language:
            texts.append((key, by_language))
    reader.finish()
    return CardTable(tuple(texts))


def _text(
    reader: TableReader, key: str, longest: int, languages: tuple[str, ...], default: str
) -> Names:
    """``((default, text), (lang, text), …)``; () when absent or wrong (a problem recorded)."""
    value = reader.raw(key)
    if value is None:
        return ()
    plain = isinstance(value, str)
    if plain:
        value = {default: value}
    elif not isinstance(value, dict) or not value:
        reader.fail(key, 'a string, or a table by language: {en = "…", ru = "…"}')
        return ()
    pairs: dict[str, str] = {}
    for lang, text in value.items():
        where = key if plain else f"{key}.{lang}"
        if lang not in LANGUAGES or lang not in languages:
            reader.fail(where, f"the programme offers only {', '.join(languages)}")
        elif problem := _text_problem(key, text, longest):
            reader.fail(where, problem)
        else:
            pairs[lang] = text
    if default not in value:
        reader.fail(key, f"needs a text in the default language ({default})")
    if len(pairs) != len(value) or default not in pairs:
        return ()
    return ((default, pairs.pop(default)), *pairs.items())


def _text_problem(key: str, text: object, longest: int) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return "must be a non-empty string"
    if len(text) > longest or "\x00" in text:
        return f"must be at most {longest} characters, without NUL"
    if key == "website":
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname or text != text.strip():
            return 'must be an http(s) URL, e.g. "https://shop.example"'
        if any(c.isspace() or ord(c) < 32 for c in text):
            return "must be a URL without spaces"
    return None


def read_locations(reader: TableReader) -> tuple[Location, ...]:
    value = reader.raw("locations")
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.fail("locations", "a list of {latitude, longitude, relevant_text} tables")
        return ()
    if len(value) > MAX_LOCATIONS:
        reader.fail("locations", f"at most {MAX_LOCATIONS} places (Apple's limit)")
        return ()
    found = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            reader.fail(f"locations[{index}]", "a table {latitude, longitude, relevant_text}")
            continue
        before = len(reader.problems)
        place = TableReader(item, reader.where(f"locations[{index}]"), reader.problems)
        latitude = _coordinate(place, "latitude", 90)
        longitude = _coordinate(place, "longitude", 180)
        text = place.string("relevant_text", max_length=MAX_RELEVANT_TEXT)
        place.finish()
        if len(reader.problems) == before and latitude is not None and longitude is not None:
            found.append(Location(latitude, longitude, text))
    return tuple(found)


def read_max_distance(reader: TableReader) -> int | None:
    return reader.integer("max_distance", None, low=1, high=MAX_DISTANCE)


def _coordinate(reader: TableReader, key: str, bound: int) -> float | None:
    """A number from -bound to bound: a TOML number or a decimal string, never NaN/inf."""
    value = reader.raw(key)
    problem = f"must be a number from -{bound} to {bound} (a TOML number or a decimal string)"
    if value is None:
        reader.fail(key, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        reader.fail(key, problem)
        return None
    if isinstance(value, str) and len(value) > MAX_NUMBER_TEXT:
        reader.fail(key, problem)
        return None
    try:
        number = Decimal(str(value).strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        reader.fail(key, problem)
        return None
    if not number.is_finite() or not -bound <= number <= bound:
        reader.fail(key, problem)
        return None
    result = float(number)
    return result if math.isfinite(result) else None
