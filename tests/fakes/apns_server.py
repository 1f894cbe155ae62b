"""The loopback APNs's side of one connection (tests/fakes/apns.py): h2 over an asyncio
protocol, events handled per read and answers written once per read."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

if TYPE_CHECKING:
    from tests.fakes.apns import FakeApns

SERVER_CONFIG = h2.config.H2Configuration(
    client_side=False,
    header_encoding="utf-8",
    validate_inbound_headers=False,  # speed: the fake is measured as the benchmark's ceiling
    normalize_inbound_headers=False,
    validate_outbound_headers=False,
    normalize_outbound_headers=False,
)
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


class _Lean(h2.connection.H2Connection):
    """h2 counts open streams by walking all of them for each new one: the server knows."""

    answering = 0

    @property
    def open_inbound_streams(self) -> int:
        return self.answering

    def forget(self, stream_id: int) -> None:
        stream = self.streams.pop(stream_id, None)
        if stream is not None:
            self._closed_streams[stream_id] = stream.closed_by


class Server(asyncio.Protocol):
    """One client connection: events handled per read, answers written once per read."""

    def __init__(self, fake: FakeApns) -> None:
        self.fake = fake
        self.streams: dict[int, dict[str, Any]] = {}
        self.open = 0  # streams received and not yet answered
        self.conn = _Lean(config=SERVER_CONFIG)
        self.conn.local_settings = h2.settings.Settings(
            client=False,
            initial_values={
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: (
                    1 if fake.verify_jwt is not None else fake.max_streams
                ),  # APNs: one stream until a token is accepted
                h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: 65536,
            },
        )
        self.raised = fake.verify_jwt is None
        self.answered = 0
        self.gone = False  # GOAWAY sent: whatever comes next is ignored
        self.transport: asyncio.Transport | None = None
        self.subject: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.fake.live.add(transport)
        self.fake.connections += 1
        ssl_object = transport.get_extra_info("ssl_object")
        peer = ssl_object.getpeercert() if ssl_object else None
        if peer:
            self.subject = ",".join(f"{k}={v}" for rdn in peer.get("subject", ()) for k, v in rdn)
        self.conn.initiate_connection()
        transport.write(self.conn.data_to_send())

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        if self.gone:
            return
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.fake.protocol_errors += 1
            self.transport.abort()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self.streams[event.stream_id] = {"headers": dict(event.headers), "body": b""}
                self.open += 1
                self.conn.answering = self.open
                self.fake.peak_streams = max(self.fake.peak_streams, self.open)
            elif isinstance(event, h2.events.DataReceived):
                self.streams[event.stream_id]["body"] += event.data
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                stream = self.streams.pop(event.stream_id)
                if self.gone:
                    continue
                delay = self.fake.delay_for(stream["headers"].get(":path", ""))
                if delay:
                    asyncio.get_running_loop().call_later(
                        delay, self._answer, event.stream_id, stream
                    )
                elif not self._respond(event.stream_id, stream):
                    return
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.transport.close()
                return
        self._flush()

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _answer(self, stream_id: int, stream: dict[str, Any]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            try:
                answered = self._respond(stream_id, stream)
            except h2.exceptions.StreamClosedError:  # the client gave up on it (reset)
                return
            if answered:
                self._flush()

    def _respond(self, stream_id: int, stream: dict[str, Any]) -> bool:
        """Record and answer one request; False when the script says to cut the connection."""
        answered = self._answer_one(stream_id, stream)
        self.answered += 1
        if answered and self.answered == self.fake.goaway_after:
            self.conn.close_connection(last_stream_id=stream_id)
            self.gone = True
        return answered

    def _answer_one(self, stream_id: int, stream: dict[str, Any]) -> bool:
        fake = self.fake
        headers: dict[str, str] = stream["headers"]
        path = headers.get(":path", "")
        fake.requests.append(
            Received(
                headers.get(":method", ""),
                path,
                headers,
                stream["body"],
                self.subject,
                fake.clock(),
            )
        )
        self.open -= 1
        self.conn.answering = self.open
        status: int | str = 403
        authorised = fake.client_ca is not None or (
            fake.verify_jwt is not None
            and fake.verify_jwt(headers.get("authorization", "").removeprefix("bearer ").strip())
        )
        if authorised:
            status = fake.answer_for(path.rsplit("/", 1)[-1])
            if not self.raised:  # a valid token: the full stream count
                self.raised = True
                self.conn.update_settings(
                    {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: fake.max_streams}
                )
        if status == "drop":
            assert self.transport is not None
            self.transport.abort()
            return False
        fake.serial += 1
        apns_id = ("apns-id", f"00000000-0000-4000-8000-{fake.serial:012X}")
        if status == 200:
            self.conn.send_headers(stream_id, [(":status", "200"), apns_id], end_stream=True)
            self.conn.forget(stream_id)
            return True
        body = b'["not", "an", "object"]'
        if status == "junk":
            status = 500
        else:  # 410, or "400 BadTopic": a status with its own reason
            code, _, reason = str(status).partition(" ")
            status = int(code)
            body = json.dumps({"reason": reason or REASONS.get(status, "Error")}).encode()
        response_headers = [
            (":status", str(status)),
            apns_id,
            ("content-type", "application/json"),
            ("content-length", str(len(body))),
        ]
        self.conn.send_headers(stream_id, response_headers)
        self.conn.send_data(stream_id, body, end_stream=True)
        self.conn.forget(stream_id)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.fake.live.discard(self.transport)
        self.transport = None
