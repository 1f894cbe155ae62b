"""``[messages]``: defaults, quiet hours across midnight, and every bad value named."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from tests.kit.programs import demo_document
from walletcards.loyalty.config import ProgramConfigError, parse_program
from walletcards.loyalty.config_messages import MessagesTable


@pytest.mark.once
def test_defaults_and_quiet_hours_across_midnight() -> None:
    table = parse_program(demo_document()).messages
    assert table == MessagesTable()
    assert table.require_consent and table.max_marketing_per_week == 2
    assert table.quiet_at(time(21, 0)) and table.quiet_at(time(3, 0))
    assert not table.quiet_at(time(9, 0)) and not table.quiet_at(time(20, 59))
    day = parse_program(demo_document(messages={"quiet_hours": ["12:00", "13:30"]})).messages
    assert day.quiet_at(time(12, 45)) and not day.quiet_at(time(13, 30))
    assert not parse_program(demo_document(messages={"quiet_hours": []})).messages.quiet_at(
        time(23, 0)
    )


@pytest.mark.once
@pytest.mark.parametrize(
    ("table", "where"),
    [
        ({"quiet_hours": ["21:00"]}, "messages.quiet_hours"),
        ({"quiet_hours": ["25:00", "09:00"]}, "messages.quiet_hours"),
        ({"quiet_hours": ["09:00", "09:00"]}, "messages.quiet_hours"),
        ({"quiet_hours": "21:00-09:00"}, "messages.quiet_hours"),
        ({"max_marketing_per_week": -1}, "messages.max_marketing_per_week"),
        ({"max_marketing_per_week": 10**30}, "messages.max_marketing_per_week"),
        ({"require_consent": "yes"}, "messages.require_consent"),
        ({"typo": 1}, "messages.typo"),
    ],
)
def test_bad_values_are_named(table: dict[str, Any], where: str) -> None:
    with pytest.raises(ProgramConfigError) as caught:
        parse_program(demo_document(messages=table))
    assert where in [field for field, _ in caught.value.problems]
