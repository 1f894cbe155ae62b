"""``[card]`` texts and ``[apple]`` locations / max_distance are checked when the programme file
is parsed (loyalty/config_card.py): every bound names its field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kit.programs import demo_document
from walletcards.loyalty.config import ProgramConfigError, parse_program
from walletcards.loyalty.config_card import CardInfo

PLACE = {"latitude": 40.7128, "longitude": "-74.0060", "relevant_text": "Demo Coffee is near"}


def apple(**keys: Any) -> dict[str, Any]:
    return {**demo_document()["apple"], **keys}


def problems(**overrides: Any) -> list[tuple[str, str]]:
    with pytest.raises(ProgramConfigError) as caught:
        parse_program(demo_document(**overrides))
    return caught.value.problems


def fields_of(found: list[tuple[str, str]]) -> list[str]:
    return [where for where, _ in found]


def test_locations_and_max_distance_are_read_as_numbers() -> None:
    place = {"latitude": -33.8688, "longitude": 151.2093}
    config = parse_program(demo_document(apple=apple(locations=[PLACE, place], max_distance=150)))
    assert config.apple is not None and config.apple.max_distance == 150
    first, second = config.apple.locations
    assert (first.latitude, first.longitude) == (40.7128, -74.006)
    assert first.relevant_text == "Demo Coffee is near" and second.relevant_text is None
    assert (second.latitude, second.longitude) == (-33.8688, 151.2093)
    bare = parse_program(demo_document())
    assert bare.apple is not None and bare.apple.locations == () and bare.apple.max_distance is None


def test_at_most_ten_locations() -> None:
    config = parse_program(demo_document(apple=apple(locations=[PLACE] * 10)))
    assert config.apple is not None and len(config.apple.locations) == 10
    found = problems(apple=apple(locations=[PLACE] * 11))
    assert found == [("apple.locations", "at most 10 places (Apple's limit)")]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("latitude", 91),
        ("latitude", -90.0001),
        ("latitude", "90.5"),
        ("longitude", 180.5),
        ("longitude", "-181"),
        ("latitude", float("nan")),
        ("longitude", float("inf")),
        ("latitude", "NaN"),
        ("latitude", "sNaN"),
        ("longitude", "-Infinity"),
        ("latitude", "north"),
        ("latitude", "1e999"),
        ("latitude", "1" * 33),
        ("latitude", 10**30),
        ("latitude", True),
        ("latitude", [1]),
        ("latitude", ""),
    ],
)
def test_a_coordinate_out_of_range_or_not_a_number_is_refused(key: str, value: Any) -> None:
    found = problems(apple=apple(locations=[{**PLACE, key: value}]))
    assert fields_of(found) == [f"apple.locations[0].{key}"]
    assert "must be a number from" in found[0][1]


def test_the_bounds_themselves_are_accepted() -> None:
    place = {"latitude": "-90", "longitude": 180, "relevant_text": "x" * 100}
    config = parse_program(demo_document(apple=apple(locations=[place], max_distance=10_000)))
    assert config.apple is not None and config.apple.locations[0].latitude == -90.0


@pytest.mark.parametrize(
    ("place", "where"),
    [
        ({**PLACE, "relevant_text": "x" * 101}, "apple.locations[0].relevant_text"),
        ({**PLACE, "relevant_text": "a\x00b"}, "apple.locations[0].relevant_text"),
        ({**PLACE, "relevant_text": 5}, "apple.locations[0].relevant_text"),
        ({"longitude": 1.0}, "apple.locations[0].latitude"),
        ({**PLACE, "altitude": 5}, "apple.locations[0].altitude"),
        ("here", "apple.locations[0]"),
    ],
)
def test_a_bad_place_names_its_field(place: Any, where: str) -> None:
    assert fields_of(problems(apple=apple(locations=[place]))) == [where]


@pytest.mark.parametrize("value", [0, -5, 10_001, 2**63, 1.5, "100", True])
def test_max_distance_is_a_bounded_positive_whole_number(value: Any) -> None:
    found = problems(apple=apple(max_distance=value))
    assert found == [("apple.max_distance", "must be a whole number from 1 to 10000")]


def test_locations_must_be_a_list() -> None:
    assert fields_of(problems(apple=apple(locations=PLACE))) == ["apple.locations"]


CARD = {
    "terms": {"en": "Points have no cash value.", "ru": "Баллы не обмениваются на деньги."},
    "contact": "hello@demo.example, +1 555 0100",
    "website": "https://demo-coffee.example/loyalty",
    "how_to_earn": {"en": "5 points per dollar.", "ru": "5 баллов за доллар."},
}


def test_card_texts_are_chosen_per_language_with_the_default_as_fallback() -> None:
    config = parse_program(demo_document(card=CARD))
    assert config.card.info("ru") == CardInfo(
        terms="Баллы не обмениваются на деньги.",
        contact="hello@demo.example, +1 555 0100",
        website="https://demo-coffee.example/loyalty",
        how_to_earn="5 баллов за доллар.",
    )
    assert config.card.info("zh").terms == "Points have no cash value."  # the default's
    assert config.card.info("en").how_to_earn == "5 points per dollar."
    assert parse_program(demo_document()).card.info("ru") == CardInfo()


@pytest.mark.parametrize(
    ("card", "where"),
    [
        ({"terms": "x" * 2001}, "card.terms"),
        ({"contact": "x" * 301}, "card.contact"),
        ({"how_to_earn": {"en": "x" * 1001}}, "card.how_to_earn.en"),
        ({"website": "https://x.example/" + "a" * 500}, "card.website"),
        ({"website": "javascript:alert(1)"}, "card.website"),
        ({"website": "ftp://demo.example"}, "card.website"),
        ({"website": "https://"}, "card.website"),
        ({"website": "https://demo.example/a b"}, "card.website"),
        ({"terms": ""}, "card.terms"),
        ({"terms": "a\x00b"}, "card.terms"),
        ({"terms": 5}, "card.terms"),
        ({"terms": {}}, "card.terms"),
        ({"terms": {"en": "ok", "ru": ""}}, "card.terms.ru"),
        ({"terms": {"en": "ok", "de": "gut"}}, "card.terms.de"),
        ({"terms": {"ru": "только по-русски"}}, "card.terms"),  # no default-language text
        ({"rules": "typo"}, "card.rules"),
    ],
)
def test_a_bad_card_text_names_its_field(card: dict[str, Any], where: str) -> None:
    assert fields_of(problems(card=card)) == [where]


def test_a_language_the_programme_does_not_offer_is_refused() -> None:
    found = problems(languages=["en", "zh"], card={"terms": {"en": "Terms", "ru": "Условия"}})
    assert found == [("card.terms.ru", "the programme offers only en, zh")]
