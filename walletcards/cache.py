"""One keyed cache for what a process makes once and keeps: an outside system's client per
programme credentials (APNs, Google), an HTTP client per event host, and the set-up calls a
process makes once per programme version (``Clients.once``: the Google class)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class KeyedCache(Generic[K, V]):
    """``get(key, make)``: the value made for ``key``, made on first use. One ``make`` per key
    at a time (others wait for it; other keys do not); a ``make`` that raises stores nothing,
    so the next ``get`` tries again. Thread-safe: web threads and the worker share a cache."""

    def __init__(self) -> None:
        self._values: dict[K, V] = {}
        self._making: dict[K, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            if key in self._values:
                return self._values[key]
            making = self._making.setdefault(key, threading.Lock())
        with making:
            with self._lock:
                if key in self._values:  # made while this thread waited
                    return self._values[key]
            made = make()
            with self._lock:
                self._values[key] = made
                self._making.pop(key, None)
            return made

    def take_all(self) -> list[V]:
        """Every value, forgotten (to close them)."""
        with self._lock:
            values = list(self._values.values())
            self._values.clear()
        return values
