"""A loopback APNs: TLS + HTTP/2 (h2 over asyncio), checking what a real provider must send.

It requires the test CA's client certificate (certificate auth) or verifies an ES256 bearer
JWT (token auth), records every request, and answers per device token from a script: a status
(200, 400, 403, 410, 429, 500; "400 BadTopic": with that reason), "drop" (the connection is
cut without an answer) or "junk" (a 500 whose body is JSON but not an object). Like APNs it
announces SETTINGS_MAX_CONCURRENT_STREAMS (``max_streams``; 1 under token auth until a valid
token arrives) and notes the most streams a client opened; ``delay`` holds every answer back
(``slow``: one token's answers), ``goaway_after`` sends GOAWAY after that many answers on a
connection. Fast enough to be run as the push benchmark's fake in its own process (its CPU per
push is reported there).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.apns_server import Received, Server


@dataclass
class FakeApns:
    server_cert: str
    server_key: str
    client_ca: str | None = None  # certificate auth: require a client cert from this CA
    verify_jwt: Any = None  # token auth: callable(jwt) -> bool
    script: dict[str, list[int | str]] = field(default_factory=lambda: defaultdict(list))
    requests: list[Received] = field(default_factory=list)
    connections: int = 0
    delay: float = 0.0
    slow: dict[str, float] = field(default_factory=dict)  # a token's own delay, over ``delay``
    max_streams: int = 1000  # SETTINGS_MAX_CONCURRENT_STREAMS (1 for token auth until one is valid)
    peak_streams: int = 0  # most streams one connection had open at once
    protocol_errors: int = 0
    goaway_after: int | None = None  # answers per connection, then GOAWAY (graceful shutdown)
    serial: int = 0
    live: set[asyncio.Transport] = field(default_factory=set)
    clock: Any = time.monotonic  # what ``Received.at`` is measured with

    def start(self) -> int:
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)
        return self.port

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.server_cert, self.server_key)
        context.set_alpn_protocols(["h2"])
        if self.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(self.client_ca)
        server = self._loop.run_until_complete(
            self._loop.create_server(self._protocol, "127.0.0.1", 0, ssl=context)
        )
        self._server = server
        self.port = int(server.sockets[0].getsockname()[1])
        ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        def close() -> None:
            self._server.close()
            for transport in list(self.live):
                transport.abort()
            self._loop.stop()

        self._loop.call_soon_threadsafe(close)
        self._thread.join(10)
        self._loop.run_until_complete(self._server.wait_closed())
        self._loop.close()

    def answer_for(self, token: str) -> int | str:
        queue = self.script.get(token)
        return queue.pop(0) if queue else 200

    def delay_for(self, path: str) -> float:
        return self.slow.get(path.rsplit("/", 1)[-1], self.delay) if self.slow else self.delay

    def pushes_to(self, token: str) -> list[Received]:
        return [r for r in self.requests if r.token == token]

    def _protocol(self) -> asyncio.Protocol:
        return Server(self)


def main() -> None:
    """Standalone, for the benchmark: `python -m tests.fakes.apns CERT KEY CLIENT_CA`.

    Prints ``PORT <n>``; on each stdin line ``dump`` prints one JSON line
    {token: [wall-clock receive times]} and forgets them, ``cpu`` prints this process's CPU
    seconds so far and its request count; exits at end of input."""
    import sys

    fake = FakeApns(sys.argv[1], sys.argv[2], client_ca=sys.argv[3])
    fake.clock = time.time  # wall clock: comparable with the benchmark's commit times
    print(f"PORT {fake.start()}", flush=True)
    for line in sys.stdin:
        if line.strip() == "dump":
            received = fake.requests[:]
            del fake.requests[: len(received)]
            times: dict[str, list[float]] = defaultdict(list)
            for request in received:
                times[request.token].append(request.at)
            print(json.dumps(times), flush=True)
        elif line.strip() == "cpu":
            print(json.dumps([time.process_time(), fake.serial]), flush=True)
    fake.stop()


if __name__ == "__main__":
    main()
