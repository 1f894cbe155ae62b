"""``[join]`` and ``[welcome] on``: the sign-up page's settings, checked field by field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kit.programs import demo_document
from walletcards.loyalty.config import ProgramConfigError, parse_program
from walletcards.loyalty.config_join import JoinTable


def test_a_programme_without_join_has_no_sign_up_page_and_pays_welcome_on_first_order() -> None:
    config = parse_program(demo_document(join=None))
    assert config.join is None
    assert config.rules.welcome is not None and config.rules.welcome.on == "first_order"


def test_join_settings_are_read_with_their_defaults() -> None:
    config = parse_program(demo_document(join={"required": ["phone", "email"]}))
    assert config.join == JoinTable(required=("email", "phone"))
    full = {
        "enabled": False,
        "required": ["phone"],
        "confirm_email": False,
        "terms_url": "https://shop.example/terms",
        "terms_version": "2026-03",
        "phone_region": "GB",
    }
    assert parse_program(demo_document(join=full)).join == JoinTable(
        False, ("phone",), False, "https://shop.example/terms", "2026-03", "GB"
    )


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"required": []}, "join.required"),
        ({"required": ["fax"]}, "join.required"),
        ({"terms_url": "javascript:alert(1)"}, "join.terms_url"),
        ({"terms_version": "v 1"}, "join.terms_version"),
        ({"phone_region": "gb"}, "join.phone_region"),
        ({"confirm_email": "yes"}, "join.confirm_email"),
        ({"surprise": 1}, "join.surprise"),
    ],
)
def test_bad_join_settings_name_their_field(table: dict[str, Any], field: str) -> None:
    with pytest.raises(ProgramConfigError) as caught:
        parse_program(demo_document(join=table))
    assert field in [where for where, _ in caught.value.problems]


def test_welcome_on_is_first_order_or_join() -> None:
    config = parse_program(demo_document(welcome={"points": 100, "on": "join"}))
    assert config.rules.welcome is not None and config.rules.welcome.on == "join"
    with pytest.raises(ProgramConfigError) as caught:
        parse_program(demo_document(welcome={"points": 100, "on": "signup"}))
    assert [where for where, _ in caught.value.problems] == ["welcome.on"]
