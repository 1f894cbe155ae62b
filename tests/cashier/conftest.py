"""Till tests run against the Apple kit's programme; staff come from the kit (tests/kit/staff)."""

from __future__ import annotations

import pytest

from walletcards.loyalty.models import Program


@pytest.fixture
def program(apple_program: Program) -> Program:
    return apple_program
