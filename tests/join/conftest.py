"""The sign-up page's tests: the demo programme with a ``[join]`` table (confirmation on)."""

from __future__ import annotations

import pytest

from tests.join.pages import JOIN
from tests.kit.programs import MakeProgram
from walletcards.loyalty.models import Program


@pytest.fixture
def program(make_program: MakeProgram) -> Program:
    return make_program(join=JOIN)
