"""Tier discounts in the programme file ([[tiers.levels]] discount_percent, [tiers]
discount_exclude_*) and their arithmetic (loyalty/discounts.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.kit.programs import demo_document
from walletcards.cli import main
from walletcards.db import Database
from walletcards.loyalty.config import ProgramConfigError, parse_program
from walletcards.loyalty.config_tier_discount import MAX_EXCLUDED, DiscountExclusions
from walletcards.loyalty.discounts import discount_minor, quote_price
from walletcards.loyalty.rules import OrderLine


@pytest.fixture
def cli_env(database: Database) -> dict[str, str]:
    return {"WALLETCARDS_DATABASE_URL": database.url, "WALLETCARDS_DEV": "1"}


def tiers(*levels: dict[str, Any], **table: Any) -> dict[str, Any]:
    return {"qualify_by": "paid_orders", "levels": list(levels), **table}


def level(code: str, threshold: int, **more: Any) -> dict[str, Any]:
    return {"code": code, "name": code.title(), "threshold": threshold, **more}


def problems(document: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ProgramConfigError) as raised:
        parse_program(document)
    return dict(raised.value.problems)


@pytest.mark.once
def test_levels_give_a_discount_beside_or_instead_of_points_and_exclusions_are_case_folded() -> (
    None
):
    rules = parse_program(
        demo_document(
            tiers=tiers(
                level("bronze", 1),
                level("silver", 2, discount_percent="5", points_per_unit="7"),
                level("gold", 4, discount_percent="10.0", points_per_unit="0"),
                discount_exclude_brands=["Gift Co", " NIVEA "],
                discount_exclude_skus=["GIFT-25"],
                discount_exclude_product_types=["Gift Card"],
            )
        )
    ).rules
    assert rules.tiers is not None
    bronze, silver, gold = rules.tiers.levels
    assert bronze.discount_percent is None
    assert (silver.discount_percent, silver.points_per_unit) == (Decimal("5"), Decimal("7"))
    assert str(gold.discount_percent) == "10" and gold.points_per_unit == 0  # instead of points
    exclusions = rules.tiers.discount_exclusions
    assert exclusions.brands == {"gift co", "nivea"}
    assert exclusions.excludes(None, "Nivea", None) and exclusions.excludes("gift-25", None, None)
    assert exclusions.excludes(None, None, "GIFT CARD") and not exclusions.excludes("A", "B", "C")


@pytest.mark.once
@pytest.mark.parametrize(
    ("table", "field"),
    [
        (tiers(level("gold", 1, discount_percent="0")), "tiers.levels[0].discount_percent"),
        (tiers(level("gold", 1, discount_percent="100.5")), "tiers.levels[0].discount_percent"),
        (tiers(level("gold", 1, discount_percent="-5")), "tiers.levels[0].discount_percent"),
        (tiers(level("gold", 1, discount_percent="ten")), "tiers.levels[0].discount_percent"),
        (tiers(level("gold", 1, discount_percent="1e999")), "tiers.levels[0].discount_percent"),
        (tiers(level("gold", 1, discount_percent="NaN")), "tiers.levels[0].discount_percent"),
        (tiers(level("gold", 1, discount_percent=0.1)), "tiers.levels[0].discount_percent"),
        (tiers(level("gold", 1, discount_percent="7.125")), "tiers.levels[0].discount_percent"),
        (tiers(level("gold", 1, discount_precent="5")), "tiers.levels[0].discount_precent"),
        (
            tiers(level("gold", 1, discount_percent="5"), discount_exclude_brands="Nivea"),
            "tiers.discount_exclude_brands",
        ),
        (
            tiers(level("gold", 1, discount_percent="5"), discount_exclude_skus=["A", ""]),
            "tiers.discount_exclude_skus",
        ),
        (
            tiers(level("gold", 1, discount_percent="5"), discount_exclude_skus=["A\x00"]),
            "tiers.discount_exclude_skus",
        ),
        (
            tiers(level("gold", 1, discount_percent="5"), discount_exclude_skus=["x" * 201]),
            "tiers.discount_exclude_skus",
        ),
        (
            tiers(
                level("gold", 1, discount_percent="5"),
                discount_exclude_product_types=[str(i) for i in range(MAX_EXCLUDED + 1)],
            ),
            "tiers.discount_exclude_product_types",
        ),
        (
            tiers(level("gold", 1), discount_exclude_brands=["Nivea"]),  # nothing to exclude from
            "tiers.discount_exclude_brands",
        ),
    ],
)
def test_a_bad_discount_is_refused_naming_its_field(table: dict[str, Any], field: str) -> None:
    found = problems(demo_document(tiers=table))
    assert field in found, found


def test_program_check_and_apply_name_the_discount_field(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        'slug = "x"\nname = "X"\ncurrency = "USD"\n[earning]\npoints_per_unit = "1"\n'
        '[tiers]\nqualify_by = "paid_orders"\n'
        '[[tiers.levels]]\ncode = "gold"\nname = "Gold"\nthreshold = 1\ndiscount_percent = "120"\n'
    )
    for command in ("check", "apply"):
        result = CliRunner().invoke(main, ["program", command, str(path)], env=cli_env)
        assert result.exit_code != 0
        assert "tiers.levels[0].discount_percent: a percentage above 0 and at most 100" in (
            result.output
        )


@pytest.mark.once
def test_the_discount_rounds_half_up_in_minor_units_once_per_purchase() -> None:
    ten = Decimal("10")
    assert discount_minor(1235, ten) == 124  # $12.35 -> $1.235 -> $1.24; ¥1,235 -> ¥124
    assert discount_minor(1234, ten) == 123
    assert discount_minor(1, Decimal("49.99")) == 0 and discount_minor(1, Decimal("50")) == 1
    assert discount_minor(999, Decimal("100")) == 999
    assert discount_minor(10**15, Decimal("99.99")) == 999_900_000_000_000
    # per purchase, not per line: three 5-cent lines at 10 % are 1.5 -> 2 cents, not 3 x 1
    lines = [OrderLine(5, sku="a"), OrderLine(5, sku="b"), OrderLine(5, sku="c")]
    assert quote_price(DiscountExclusions(), ten, 15, lines).discount_minor == 2


@pytest.mark.once
def test_excluded_lines_are_not_discounted_and_without_lines_all_of_it_is() -> None:
    exclusions = DiscountExclusions(brands=frozenset({"nivea"}), skus=frozenset({"gift-25"}))
    lines = [
        OrderLine(2000, sku="SHAMPOO", brand="Own"),
        OrderLine(3000, sku="CREAM", brand="Nivea"),
        OrderLine(2500, sku="GIFT-25"),
    ]
    quoted = quote_price(exclusions, Decimal("10"), 7500, lines)
    assert (quoted.discountable_minor, quoted.discount_minor, quoted.to_pay_minor) == (
        2000,
        200,
        7300,
    )
    whole = quote_price(exclusions, Decimal("10"), 7500)
    assert (whole.discountable_minor, whole.discount_minor) == (7500, 750)
    none = quote_price(exclusions, None, 7500, lines)
    assert (none.discount_minor, none.to_pay_minor) == (0, 7500)
