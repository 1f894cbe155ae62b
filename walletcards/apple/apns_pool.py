"""A pool of APNs HTTP/2 connections for one set of credentials (one TLS context).

Up to ``max_connections`` long-lived connections (ALPN h2; Apple counts rapid reconnects as
abuse) and one queue of requests: every connection fills its free streams from the queue, and
a new connection opens only when every open one is saturated. One timer per pool times out
requests that get no answer; with no connection to be had, queued requests fail (status 0,
the caller retries later) and the next connect waits a second.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque

import h2.exceptions

from walletcards.apple.apns_h2 import Connection, Request, log, short


class H2Pool:
    """Connections to one APNs host with one TLS context (one programme's credentials)."""

    def __init__(
        self,
        host: str,
        port: int,
        context: ssl.SSLContext,
        max_connections: int = 4,
        max_streams: int = 1000,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port, self.context = host, port, context
        self.max_connections, self.max_streams, self.timeout = max_connections, max_streams, timeout
        self.loop = asyncio.get_running_loop()  # made on the loop that will use it
        self.pending: deque[Request] = deque()
        self.connections: list[Connection] = []
        self.connecting = 0
        self._sweeping: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.opened = 0  # connections ever made (checked by tests)
        self.closed = False
        self._next_connect = 0.0  # after a failed connect, wait a second before the next

    def submit(self, requests: list[Request]) -> None:
        now = self.loop.time()
        for request in requests:
            request.sent_at = now  # queued at, until it is sent
        self.pending.extend(requests)
        self.watch()
        self.pump()

    def pump(self) -> None:
        for connection in list(self.connections):  # (a connection may abort and leave)
            if not self.pending:
                return
            connection.fill()
        if (
            self.pending
            and not self.closed
            and not self.connecting
            and self.loop.time() >= self._next_connect
            and len(self.connections) < self.max_connections
            and all(c.ready for c in self.connections)  # saturated, not still starting
        ):
            self.connecting += 1
            task = self.loop.create_task(self._connect())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif self.pending and not self.connections and not self.connecting:
            self._refused("ConnectError")  # refused a moment ago: fail now, retry later

    async def _connect(self) -> None:
        try:
            _, connection = await asyncio.wait_for(
                self.loop.create_connection(
                    lambda: Connection(self),
                    self.host,
                    self.port,
                    ssl=self.context,
                    server_hostname=self.host,
                ),
                self.timeout,
            )
            ssl_object = connection.transport.get_extra_info("ssl_object")  # type: ignore[union-attr]
            if ssl_object is None or ssl_object.selected_alpn_protocol() != "h2":
                connection.abort("NoHttp2")
                raise ConnectionError("the server did not agree to HTTP/2 (ALPN h2)")
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            self.connecting -= 1
            self._next_connect = self.loop.time() + 1.0
            self._refused(type(exc).__name__)
            return
        self.connecting -= 1
        if self.closed:  # closed while this one connected
            connection.abort("Closed")
            return
        self.opened += 1
        self.connections.append(connection)
        connection.fill()  # once its SETTINGS arrive, data_received pumps

    def _refused(self, problem: str) -> None:
        """No connection: with none open either, every queued request fails (retry later)."""
        if self.connections:
            self.pump()
            return
        waiting, self.pending = list(self.pending), deque()
        for request in waiting:
            log.info("APNs connection problem for %s: %s", short(request.token), problem)
            request.done(request, 0, b"")

    def forget(self, connection: Connection) -> None:
        if connection in self.connections:
            self.connections.remove(connection)

    def watch(self) -> None:
        """Time out requests that get no answer: one timer for the pool, not one per stream."""
        if self._sweeping is None and not self.closed:
            self._sweeping = self.loop.call_later(min(1.0, self.timeout / 2), self._sweep)

    def _sweep(self) -> None:
        self._sweeping = None
        before = self.loop.time() - self.timeout
        for connection in list(self.connections):
            try:
                connection.expire(before)
            except Exception:  # one connection's failure must not stop the pool's timer
                log.exception("APNs connection sweep failed; the connection is dropped")
                connection.abort("SweepFailed")
        while self.pending and self.pending[0].sent_at < before:  # no connection took it
            request = self.pending.popleft()
            log.info("APNs connection problem for %s: %s", short(request.token), "Timeout")
            request.done(request, 0, b"")
        if self.pending or any(c.streams for c in self.connections):
            self.watch()

    async def aclose(self) -> None:
        self.closed = True
        if self._sweeping is not None:
            self._sweeping.cancel()
        connections, self.connections = list(self.connections), []
        for connection in connections:
            connection.closing = True
            try:
                connection.h2.close_connection()
                connection.flush()
            except h2.exceptions.ProtocolError:
                pass
            if connection.transport is not None:
                connection.transport.close()
        if connections:  # TLS close_notify goes out before the loop may end
            await asyncio.wait([c.gone for c in connections], timeout=self.timeout)
