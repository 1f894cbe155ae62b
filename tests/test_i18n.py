"""The gettext catalogues are complete and built: every text the code says is in the template,
every language translates all of it with CLDR's plural forms, and the committed .mo files are
what ``pybabel compile`` makes of the .po files."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from tests.kit.clone import ROOT
from walletcards.i18n import CATALOGUES, LANGUAGES, SOURCE, choose, language

TRANSLATED = [code for code in LANGUAGES if code != SOURCE]

pytestmark = pytest.mark.once


def catalogue(lang: str) -> Catalog:
    with open(CATALOGUES / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=lang)


def ids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def extracted() -> set[str]:
    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)  # type: ignore[no-untyped-call]
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_the_template_holds_exactly_the_texts_in_the_code() -> None:
    with open(CATALOGUES / "messages.pot", "rb") as fh:
        template = read_po(fh)
    assert ids(template) == extracted(), "run pybabel extract + update (docs/translations.md)"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_text_is_translated_with_cldr_plural_forms(lang: str) -> None:
    with open(CATALOGUES / "messages.pot", "rb") as fh:
        template = read_po(fh)
    catalog = catalogue(lang)
    assert ids(catalog) == ids(template)
    assert catalog.plural_forms == get_plural(lang).plural_forms
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, (lang, message.id)
        if message.pluralizable:
            assert len(strings) == catalog.num_plurals, (lang, message.id)
    assert [(m.id, errors) for m, errors in catalog.check()] == []  # placeholders match


@pytest.mark.parametrize("lang", TRANSLATED)
def test_committed_mo_files_are_the_compiled_po_files(lang: str, tmp_path: Path) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalogue(lang), use_fuzzy=False)  # what `pybabel compile` writes
    committed = (CATALOGUES / lang / "LC_MESSAGES" / "messages.mo").read_bytes()
    assert compiled.getvalue() == committed, "run pybabel compile (docs/translations.md)"


def test_a_wheel_ships_the_catalogues() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["walletcards"]
    package = ROOT / "walletcards"
    shipped = {path for pattern in patterns for path in package.glob(pattern)}
    for lang in TRANSLATED:
        for suffix in ("po", "mo"):
            assert CATALOGUES / lang / "LC_MESSAGES" / f"messages.{suffix}" in shipped


def test_russian_counts_take_the_cldr_form_and_a_non_breaking_space() -> None:
    russian = language("ru")
    forms = [russian.ngettext("%(num)s point", "%(num)s points", n) for n in (1, 2, 5, 21, 1234)]
    assert forms == ["1 балл", "2 балла", "5 баллов", "21 балл", "1\xa0234 балла"]
    chinese = language("zh")
    assert chinese.ngettext("%(num)s point", "%(num)s points", 1234) == "1,234积分"


def test_a_customer_language_the_programme_does_not_offer_gets_its_default() -> None:
    assert choose("ru-RU", ("en", "ru"), "en") == "ru"
    assert choose("zh_CN", ("en", "zh"), "en") == "zh"
    assert choose("zh", ("en", "ru"), "ru") == "ru"
    assert choose("fr", LANGUAGES, "en") == "en"
    assert choose(None, LANGUAGES, "zh") == "zh"
