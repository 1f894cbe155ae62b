"""The external systems a running app talks to, injectable so tests pass loopback fakes."""

from __future__ import annotations

from dataclasses import dataclass, field

from walletcards.clock import Clock, SystemClock


@dataclass
class Clients:
    clock: Clock = field(default_factory=SystemClock)
