"""HTTP/2 for the APNs client: ``h2`` frames written straight onto an asyncio TLS connection.

A :class:`Connection` takes requests from its pool's queue (walletcards/apple/apns_pool.py)
while it has streams to spare: no more than the server's SETTINGS_MAX_CONCURRENT_STREAMS (APNs
lowers it to 1 until a token is accepted, then raises it) nor the pool's ``max_streams``. It
writes once per batch of frames and once per read, not once per request. Each request ends in
exactly one ``done(request, status, body)`` call: status 0 means no answer (connection lost,
stream reset, timeout). Requests the server never took (streams above a GOAWAY's last stream
id) go back to the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions

if TYPE_CHECKING:
    from walletcards.apple.apns_pool import H2Pool

log = logging.getLogger("walletcards.apple.apns")
Headers = Sequence[tuple[bytes, bytes]]
CONFIG = h2.config.H2Configuration(
    client_side=True,
    header_encoding=None,
    validate_outbound_headers=False,  # we build them: pseudo-headers first, lower case
    normalize_outbound_headers=False,
    validate_inbound_headers=False,
    normalize_inbound_headers=False,
)
BODY = b"{}"


class Request:
    __slots__ = ("body", "done", "headers", "sent_at", "status", "token")

    def __init__(
        self, token: str, headers: Headers, done: Callable[[Request, int, bytes], None]
    ) -> None:
        self.token, self.headers, self.done, self.sent_at = token, headers, done, 0.0
        self.status, self.body = 0, b""


class _Lean(h2.connection.H2Connection):
    """h2 counts open streams by walking all of them for every new stream (O(n) per push
    at 1,000 streams); the connection knows the count, and forgets each stream as it ends."""

    active = 0

    @property
    def open_outbound_streams(self) -> int:
        return self.active

    def forget(self, stream_id: int) -> None:
        stream = self.streams.pop(stream_id, None)
        if stream is not None:
            self._closed_streams[stream_id] = stream.closed_by


class Connection(asyncio.Protocol):
    def __init__(self, pool: H2Pool) -> None:
        self.pool = pool
        self.h2 = _Lean(config=CONFIG)
        self.transport: asyncio.Transport | None = None
        self.ready = False  # the server's SETTINGS arrived
        self.closing = False  # GOAWAY received, or the connection is gone
        self.streams: dict[int, Request] = {}  # in flight, by stream id
        self.gone = pool.loop.create_future()  # set when the connection is lost
        self.last_rx = pool.loop.time()  # when the server last sent anything

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.h2.initiate_connection()
        transport.write(self.h2.data_to_send())

    def capacity(self) -> int:
        if not self.ready or self.closing:
            return 0
        limit = min(self.h2.remote_settings.max_concurrent_streams, self.pool.max_streams)
        return limit - len(self.streams)

    def fill(self) -> None:
        """Open streams for queued requests while this connection has room."""
        room, pending, h2c = self.capacity(), self.pool.pending, self.h2
        if room <= 0 or not pending:
            return
        now = self.pool.loop.time()
        streams = self.streams
        while room > 0 and pending and h2c.outbound_flow_control_window >= len(BODY):
            request = pending.popleft()
            try:  # (stream ids run out after 2^30 streams; a flow-control or state error)
                stream_id = h2c.get_next_available_stream_id()
                h2c.send_headers(stream_id, request.headers)
                h2c.send_data(stream_id, BODY, end_stream=True)
            except h2.exceptions.H2Error as exc:  # the request goes back; a new connection
                pending.appendleft(request)
                self.abort(type(exc).__name__)
                return
            h2c.active += 1
            request.sent_at = now
            streams[stream_id] = request
            room -= 1
        self.flush()

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.last_rx = self.pool.loop.time()
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            self.abort(type(exc).__name__)
            return
        for event in events:
            kind = type(event)
            if kind is h2.events.ResponseReceived:
                assert isinstance(event, h2.events.ResponseReceived) and event.stream_id
                request = self.streams.get(event.stream_id)
                if request is not None:
                    request.status = next(
                        (int(v) for k, v in event.headers or () if k == b":status"), 0
                    )
            elif kind is h2.events.StreamEnded:
                self.end(event.stream_id, None)  # type: ignore[attr-defined]
            elif kind is h2.events.DataReceived:
                assert isinstance(event, h2.events.DataReceived) and event.stream_id
                request = self.streams.get(event.stream_id)
                if request is not None and event.data:
                    request.body += event.data
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif kind is h2.events.StreamReset:
                self.end(event.stream_id, "StreamReset")  # type: ignore[attr-defined]
            elif kind is h2.events.RemoteSettingsChanged:
                self.ready = True
            elif kind is h2.events.ConnectionTerminated:
                assert isinstance(event, h2.events.ConnectionTerminated)
                self.goaway(event.last_stream_id or 0)
        self.flush()
        self.pool.pump()
        if self.closing and not self.streams and self.transport is not None:
            self.transport.close()

    def end(self, stream_id: int, problem: str | None) -> None:
        request = self.streams.pop(stream_id, None)
        if request is None:
            return
        self.h2.active -= 1
        self.h2.forget(stream_id)
        if problem is not None:
            log.info("APNs connection problem for %s: %s", short(request.token), problem)
            request.status, request.body = 0, b""
        request.done(request, request.status, request.body)

    def goaway(self, last_stream_id: int) -> None:
        """The server takes no new streams; those it never saw go back to the queue."""
        self.closing = True
        unseen = [sid for sid in self.streams if sid > last_stream_id]
        for stream_id in reversed(unseen):
            request = self.streams.pop(stream_id)
            request.status, request.body = 0, b""
            self.h2.active -= 1
            self.pool.pending.appendleft(request)

    def expire(self, before: float) -> None:
        """Streams sent before ``before`` get no answer now: reset them. A connection that sent
        nothing at all since then (a NAT dropped it silently), or that is closing after a
        GOAWAY (h2 refuses to reset its streams), is aborted: its requests fail for a retry and
        the pool opens a new connection instead of writing into a dead one."""
        late = []
        for stream_id, request in self.streams.items():  # in the order they were sent
            if request.sent_at >= before:
                break
            late.append(stream_id)
        if late and (self.closing or self.last_rx < before):
            self.abort("NoAnswer")
            return
        for stream_id in late:
            with contextlib.suppress(h2.exceptions.ProtocolError):
                self.h2.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
            self.end(stream_id, "Timeout")
        if late:
            self.flush()

    def abort(self, problem: str) -> None:
        if self.transport is not None:
            self.transport.abort()
        self.lost(problem)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.gone.done():
            self.gone.set_result(None)
        self.lost(type(exc).__name__ if exc else "ConnectionClosed")

    def lost(self, problem: str) -> None:
        self.closing = True
        self.pool.forget(self)
        for stream_id in list(self.streams):
            self.end(stream_id, problem)
        self.pool.pump()


def short(token: str) -> str:
    """Push tokens are secrets of a kind: logs show only their first characters (and never a
    control character from a token stored before registrations were checked)."""
    return "".join(c if c.isascii() and c.isalnum() else "?" for c in token[:8]) + "…"
