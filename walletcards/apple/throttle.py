"""Token buckets for unauthenticated endpoints (Apple's device log), in bounded memory.

Per process: with N web processes the allowance is N times larger, which still bounds what
anyone can make us store. Keys are client addresses; IPv6 clients are grouped by /64 (one
subscriber usually holds a whole /64, so per-address buckets would be free to multiply).
"""

from __future__ import annotations

import ipaddress
import threading
from collections import OrderedDict


def client_key(address: str | None) -> str:
    """The bucket key for a client address: the address, or its /64 for IPv6."""
    if not address:
        return "-"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


class TokenBuckets:
    """``capacity`` requests at once, refilled at ``per_second``; at most ``max_keys`` keys
    remembered, the least recently seen forgotten first (a forgotten key starts full again,
    so pair this with a global bucket to bound the total)."""

    def __init__(self, capacity: float, per_second: float, max_keys: int = 10_000) -> None:
        self.capacity, self.per_second, self.max_keys = capacity, per_second, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key: tokens, at
        self._lock = threading.Lock()

    def take(self, key: str, now: float) -> bool:
        """Spend one token of ``key``'s bucket at ``now`` (seconds); False when it is empty."""
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + max(0.0, now - at) * self.per_second)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return allowed

    def __len__(self) -> int:
        return len(self._buckets)
