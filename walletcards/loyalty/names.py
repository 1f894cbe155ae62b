"""The programme file's languages and names given per language.

``languages = ["en", "ru"]`` lists what a programme offers (default: every language walletcards
speaks); ``locale`` is its default and must be one of them. A programme or tier ``name`` is a
plain string (the same in every language) or a table ``{en = "Gold", zh = "金卡"}`` whose keys
are languages the programme offers, the default language's required.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from walletcards.i18n import LANGUAGES
from walletcards.loyalty.config_reader import TableReader

if TYPE_CHECKING:
    from walletcards.loyalty.config_rules import ProgramRules

Names = tuple[tuple[str, str], ...]  # (language, name), in the file's order
MAX_NAME = 200  # programs.name is 200 wide


def name_in(default: str, names: Names, lang: str) -> str:
    """The name in ``lang``; the default-language name where none is given."""
    return dict(names).get(lang, default)


def read_languages(reader: TableReader, default: str) -> tuple[str, ...]:
    value = reader.raw("languages")
    if value is None:
        return LANGUAGES
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v in LANGUAGES for v in value)
        or len(set(value)) != len(value)
    ):
        reader.fail("languages", f"a list of distinct languages from {', '.join(LANGUAGES)}")
        return LANGUAGES
    if default not in value:
        reader.fail("languages", f"must include the default language, locale = {default!r}")
    return tuple(value)


def read_names(reader: TableReader, key: str) -> tuple[str | None, Names]:
    """A required name: ``(plain, ())`` for a string, ``(None, pairs)`` for a table (its default
    is chosen by ``default_name`` once the languages are known)."""
    value = reader.raw(key)
    if value is None:
        reader.fail(key, "is required")
        return None, ()
    if isinstance(value, str):
        if not _good(value):
            reader.fail(key, f"must be a non-empty string of at most {MAX_NAME} characters")
            return None, ()
        return value, ()
    if not isinstance(value, dict) or not value:
        reader.fail(key, 'a string, or a table of names by language: {en = "Gold", zh = "金卡"}')
        return None, ()
    pairs = []
    for lang, name in value.items():
        if lang not in LANGUAGES:
            reader.fail(
                f"{key}.{lang}", f"not a language walletcards speaks ({', '.join(LANGUAGES)})"
            )
        elif not isinstance(name, str) or not _good(name):
            reader.fail(
                f"{key}.{lang}", f"must be a non-empty string of at most {MAX_NAME} characters"
            )
        else:
            pairs.append((lang, name))
    return None, tuple(pairs)


def default_name(
    where: str,
    plain: str | None,
    names: Names,
    languages: tuple[str, ...],
    default: str,
    problems: list[tuple[str, str]],
) -> str:
    """The name in the programme's default language; problems for a table naming a language the
    programme does not offer or lacking the default one."""
    if plain is not None or not names:
        return plain or ""
    for lang, _ in names:
        if lang not in languages:
            problems.append(
                (f"{where}.{lang}", f"the programme offers only {', '.join(languages)}")
            )
    found = dict(names).get(default)
    if found is None:
        problems.append((where, f"needs a name in the default language ({default})"))
        return names[0][1]
    return found


def name_tiers(
    rules: ProgramRules,
    languages: tuple[str, ...],
    default: str,
    problems: list[tuple[str, str]],
) -> ProgramRules:
    """Rules whose tier names are checked against the languages and named in the default one."""
    if rules.tiers is None:
        return rules
    levels = []
    for index, level in enumerate(rules.tiers.levels):
        plain = None if level.names else level.name
        name = default_name(
            f"tiers.levels[{index}].name", plain, level.names, languages, default, problems
        )
        levels.append(replace(level, name=name or level.code))
    return replace(rules, tiers=replace(rules.tiers, levels=tuple(levels)))


def _good(value: str) -> bool:
    return bool(value.strip()) and len(value) <= MAX_NAME and "\x00" not in value
