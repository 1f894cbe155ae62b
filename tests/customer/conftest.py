"""The card page tests use the Apple kit: a programme with a pass certificate."""

from __future__ import annotations

import pytest

from walletcards.loyalty.models import Program


@pytest.fixture
def program(apple_program: Program) -> Program:
    return apple_program
