"""Sync tests: the Apple kit's programme, and an app whose APNs client talks to the kit's
loopback APNs (tests/kit/apns.py: the fake, the pusher and the worker)."""

from __future__ import annotations

import pytest

from walletcards.loyalty.models import Program
from walletcards.settings import Settings


@pytest.fixture
def program(apple_program: Program) -> Program:
    return apple_program


@pytest.fixture
def settings(apns_settings: Settings) -> Settings:
    return apns_settings
