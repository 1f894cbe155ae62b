"""A loopback APNs: TLS + HTTP/2 (h2 over asyncio), checking what a real provider must send.

It requires the test CA's client certificate (certificate auth) or verifies an ES256 bearer
JWT (token auth), records every request, and answers per device token from a script: a status
(200, 400, 403, 410, 429, 500), "drop" (the connection is cut without an answer) or "junk"
(a 500 whose body is JSON but not an object: what no client should trip over).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.events

REASONS = {
    400: "BadDeviceToken",
    403: "InvalidProviderToken",
    410: "Unregistered",
    429: "TooManyRequests",
    500: "InternalServerError",
}


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_subject: str | None
    at: float

    @property
    def token(self) -> str:
        return self.path.rsplit("/", 1)[-1]


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
            asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=context)
        )
        self._server = server
        self.port = int(server.sockets[0].getsockname()[1])
        ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        def close() -> None:
            self._server.close()
            self._loop.stop()

        self._loop.call_soon_threadsafe(close)
        self._thread.join(10)
        self._loop.run_until_complete(self._server.wait_closed())
        self._loop.close()

    def answer_for(self, token: str) -> int | str:
        queue = self.script.get(token)
        return queue.pop(0) if queue else 200

    def pushes_to(self, token: str) -> list[Received]:
        return [r for r in self.requests if r.token == token]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        ssl_object = writer.get_extra_info("ssl_object")
        peer = ssl_object.getpeercert() if ssl_object else None
        subject = None
        if peer:
            subject = ",".join(f"{k}={v}" for rdn in peer.get("subject", ()) for k, v in rdn)
        conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        streams: dict[int, dict[str, Any]] = {}
        try:
            while True:
                data = await reader.read(65535)
                if not data:
                    break
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        streams[event.stream_id] = {"headers": dict(event.headers), "body": b""}
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id]["body"] += event.data
                        conn.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                    elif isinstance(event, h2.events.StreamEnded):
                        stream = streams.pop(event.stream_id)
                        if not await self._respond(conn, event.stream_id, stream, subject, writer):
                            writer.transport.abort()
                            return
                    elif isinstance(event, h2.events.ConnectionTerminated):
                        writer.close()
                        return
                writer.write(conn.data_to_send())
                await writer.drain()
        except (ConnectionError, ssl.SSLError, h2.exceptions.ProtocolError):
            writer.transport.abort()

    async def _respond(
        self,
        conn: h2.connection.H2Connection,
        stream_id: int,
        stream: dict[str, Any],
        subject: str | None,
        writer: asyncio.StreamWriter,
    ) -> bool:
        headers: dict[str, str] = stream["headers"]
        self.requests.append(
            Received(
                headers.get(":method", ""),
                headers.get(":path", ""),
                headers,
                stream["body"],
                subject,
                self.clock(),
            )
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        status: int | str = 403
        authorised = self.client_ca is not None or (
            self.verify_jwt is not None
            and self.verify_jwt(headers.get("authorization", "").removeprefix("bearer ").strip())
        )
        if authorised:
            status = self.answer_for(headers.get(":path", "").rsplit("/", 1)[-1])
        if status == "drop":
            return False
        body = b'["not", "an", "object"]'
        if status == "junk":
            status = 500
        else:
            assert isinstance(status, int)
            body = json.dumps({"reason": REASONS.get(status, "Error")}).encode()
        assert isinstance(status, int)
        response_headers = [(":status", str(status)), ("apns-id", str(uuid.uuid4()).upper())]
        if status == 200:
            conn.send_headers(stream_id, response_headers, end_stream=True)
        else:
            conn.send_headers(
                stream_id,
                [
                    *response_headers,
                    ("content-type", "application/json"),
                    ("content-length", str(len(body))),
                ],
            )
            conn.send_data(stream_id, body, end_stream=True)
        writer.write(conn.data_to_send())
        return True


def main() -> None:
    """Standalone, for the benchmark: `python -m tests.fakes.apns CERT KEY CLIENT_CA`.

    Prints ``PORT <n>``; on each stdin line ``dump`` prints one JSON line
    {token: [wall-clock receive times]} and forgets them; exits at end of input."""
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
    fake.stop()


if __name__ == "__main__":
    main()
