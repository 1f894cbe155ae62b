"""The external systems a running app talks to, injectable so tests pass loopback fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from walletcards.clock import Clock, SystemClock

if TYPE_CHECKING:
    from walletcards.google.sync import GoogleClients


@dataclass
class Clients:
    clock: Clock = field(default_factory=SystemClock)
    google: GoogleClients | None = None  # made from the settings when not given
