"""Programme and tier names per language: a plain string or a table of the programme's
languages (its default one required), and the card says them in the customer's language."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kit.programs import MakeCard, MakeProgram, demo_document
from walletcards.cardface import card_face
from walletcards.clock import FixedClock
from walletcards.db import Database
from walletcards.loyalty.config import ProgramConfigError, parse_program
from walletcards.loyalty.models import Card

TIERS = {
    "qualify_by": "paid_orders",
    "levels": [
        {"code": "bronze", "name": {"en": "Bronze", "ru": "Бронза"}, "threshold": 0},
        {"code": "gold", "name": {"en": "Gold", "ru": "Золото", "zh": "金卡"}, "threshold": 3},
    ],
}


def problems_of(**changes: Any) -> list[tuple[str, str]]:
    with pytest.raises(ProgramConfigError) as raised:
        parse_program(demo_document(**changes))
    return raised.value.problems


def test_a_plain_name_is_still_the_name_in_every_language() -> None:
    config = parse_program(demo_document())
    assert config.languages == ("en", "ru", "zh") and config.names == ()
    assert [config.name_in(lang) for lang in ("en", "ru", "zh")] == ["Demo Coffee"] * 3
    assert config.rules.tiers is not None
    assert config.rules.tiers.levels[0].name_in("ru") == "Bronze"


def test_names_by_language_are_read_and_missing_ones_fall_back_to_the_default() -> None:
    config = parse_program(
        demo_document(name={"en": "Demo Coffee", "ru": "Демо Кофе"}, tiers=TIERS, locale="ru")
    )
    assert (config.name, config.name_in("ru"), config.name_in("zh")) == (
        "Демо Кофе",
        "Демо Кофе",
        "Демо Кофе",
    )
    assert config.rules.tiers is not None
    bronze, gold = config.rules.tiers.levels
    assert (bronze.name, bronze.name_in("en"), bronze.name_in("zh")) == (
        "Бронза",
        "Bronze",
        "Бронза",
    )
    assert (gold.name_in("ru"), gold.name_in("zh")) == ("Золото", "金卡")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"languages": ["en", "ru"], "tiers": TIERS}, "tiers.levels[1].name.zh"),  # not offered
        ({"name": {"ru": "Демо"}}, "name"),  # no name in the default language (en)
        ({"name": {"en": "Demo", "fr": "Démo"}}, "name.fr"),  # not a language we speak
        ({"name": {"en": ""}}, "name.en"),
        ({"name": {"en": "x" * 201}}, "name.en"),
        ({"name": {}}, "name"),
        ({"name": 7}, "name"),
        ({"languages": ["ru"]}, "languages"),  # without the default language
        ({"languages": ["en", "fr"]}, "languages"),
        ({"languages": ["en", "en"]}, "languages"),
        ({"languages": "en"}, "languages"),
    ],
)
def test_bad_names_and_languages_are_refused_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    assert field in [where for where, _ in problems_of(**changes)]


def test_the_card_names_the_next_tier_and_the_programme_in_the_customer_language(
    make_program: MakeProgram, make_card: MakeCard, database: Database, clock: FixedClock
) -> None:
    program = make_program(name={"en": "Demo Coffee", "ru": "Демо Кофе"}, tiers=TIERS)
    russian = make_card(program, email="ivan@example.com", locale="ru")
    english = make_card(program, email="ann@example.com", locale="en")
    with database.transaction() as session:
        faces = []
        for made in (russian, english):
            card = session.get(Card, made.id)
            assert card is not None
            card.tier_code = "bronze"  # the tier a first order gives (threshold 0)
            faces.append(card_face(session, program, card, clock.now(), "k" * 20))
    ru, en = faces
    assert (ru.program_name, ru.tier, ru.next_tier) == (
        "Демо Кофе",
        "Бронза",
        "Ещё 3 заказа до уровня «Золото»",
    )
    assert (en.program_name, en.tier, en.next_tier) == (
        "Demo Coffee",
        "Bronze",
        "3 more orders to Gold",
    )
