"""The sign-up page sends emails, so ``[join]`` needs ``[email]``."""

from __future__ import annotations

import pytest

from tests.join.pages import JOIN
from tests.kit.programs import demo_document
from walletcards.loyalty.config import ProgramConfigError, parse_program


@pytest.mark.parametrize("email", [None, {"enabled": False, "from": "Demo <c@demo.example>"}])
def test_an_enabled_sign_up_page_needs_the_card_email(email: dict[str, object] | None) -> None:
    with pytest.raises(ProgramConfigError) as caught:
        parse_program(demo_document(join=JOIN, email=email))
    assert [where for where, _ in caught.value.problems] == ["join"]
    parse_program(demo_document(join={**JOIN, "enabled": False}, email=email))
