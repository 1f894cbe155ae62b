"""Languages: gettext catalogues and Babel's CLDR formats (numbers, money, dates).

English is the source language: its texts are the msgids, so it needs no catalogue. Russian and
Chinese are read from ``walletcards/translations/<lang>/LC_MESSAGES/messages.mo``, compiled from
the ``.po`` files next to them (``pybabel compile``; docs/translations.md); the plural forms come
from each catalogue's ``Plural-Forms`` header, which pybabel writes from CLDR (Russian: one, few,
many; Chinese: one form).
"""

from __future__ import annotations

import gettext
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_currency, format_decimal

CATALOGUES = Path(__file__).parent / "translations"
DOMAIN = "messages"
SOURCE = "en"
LANGUAGES = ("en", "ru", "zh")  # what walletcards speaks; a programme offers some of them


class Language:
    """One language's texts and formats. ``gettext``/``ngettext`` are the names pybabel
    extracts; ``values`` fill ``%(name)s`` placeholders, and ``ngettext`` always offers
    ``num``: the count as this language writes numbers (``1 234`` in Russian, with NBSP)."""

    def __init__(self, code: str, catalogue: gettext.NullTranslations) -> None:
        self.code = code
        self.catalogue = catalogue
        self.locale = Locale.parse(code)

    def gettext(self, message: str, **values: object) -> str:
        text = self.catalogue.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        text = self.catalogue.ngettext(singular, plural, n)
        return text % {"num": self.number(n), **values}

    def number(self, value: int | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def money(self, amount: Decimal, currency: str) -> str:
        return format_currency(amount, currency, locale=self.locale)

    def day(self, value: date) -> str:
        """Day and short month, in the language's own order ("Apr 14", "14 апр.", "4月14日")."""
        return format_skeleton("MMMd", value, locale=self.locale)


@lru_cache(maxsize=len(LANGUAGES))
def language(code: str) -> Language:
    """The language ``code`` (one of LANGUAGES); a missing catalogue is an error, never a
    silent fall back to English."""
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}")
    if code == SOURCE:
        return Language(code, gettext.NullTranslations())
    return Language(code, gettext.translation(DOMAIN, CATALOGUES, [code]))


def choose(wanted: str | None, offered: tuple[str, ...], default: str) -> str:
    """The language to use for ``wanted`` (a customer's ``ru``, ``ru-RU``, ``zh_CN``): its
    language part if the programme offers it, else the programme's default."""
    code = (wanted or "").replace("_", "-").split("-")[0].lower()
    return code if code in offered else default
