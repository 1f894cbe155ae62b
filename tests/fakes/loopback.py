"""One way to serve a Flask app on a loopback port from a thread: the loopback fakes (Google,
the shops' admin APIs) and the fixtures serving a receiver or the app itself use it."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server


class LoopbackServer:
    """``app`` served on 127.0.0.1 at a free port (threaded), TLS with ``ssl_context`` (a
    context, or the paths of a certificate and its key); running until ``stop``."""

    def __init__(
        self, app: Flask, ssl_context: ssl.SSLContext | tuple[str, str] | None = None
    ) -> None:
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context
        )
        self.port: int = self._server.server_port
        self.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{self.port}"
        # a short poll: stopping the server after each test costs 0.05 s, not 0.5 s
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)
        self._server.server_close()


@contextmanager
def serving(
    app: Flask, ssl_context: ssl.SSLContext | tuple[str, str] | None = None
) -> Iterator[LoopbackServer]:
    """A ``LoopbackServer`` for the ``with`` block (a fixture's ``yield``)."""
    server = LoopbackServer(app, ssl_context)
    try:
        yield server
    finally:
        server.stop()


class LoopbackFake:
    """What the loopback fakes share: ``serve`` their app from ``start`` (over TLS when given a
    certificate and its key), ``stop`` it after the test."""

    url: str
    _server: LoopbackServer

    def serve(self, app: Flask, cert: str | None = None, key: str | None = None) -> str:
        self._server = LoopbackServer(app, (cert, key) if cert and key else None)
        self.url = self._server.url
        return self.url

    def stop(self) -> None:
        self._server.stop()
