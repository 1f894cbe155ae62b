"""Webhook tests run against a programme that knows every shop's secret."""

from __future__ import annotations

import pytest

from walletcards.loyalty.models import Program


@pytest.fixture
def program(webhook_program: Program) -> Program:
    return webhook_program
