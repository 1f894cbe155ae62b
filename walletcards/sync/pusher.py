"""The worker's APNs side: one private event loop thread, one long-lived client per programme."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from walletcards.apple.apns import ApnsClient, CertificateAuth, Outcome, TokenAuth
from walletcards.apple.passes import apple_table
from walletcards.loyalty.models import Program
from walletcards.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def apns_auth(program: Program) -> CertificateAuth | TokenAuth:
    """Token auth when the [apple] table names a .p8 key, else the Pass Type ID certificate."""
    table = apple_table(program)
    if table.apns_key_file and table.apns_key_id:  # the file names both or neither
        return TokenAuth(table.apns_key_file, table.apns_key_id, table.team_identifier)
    return CertificateAuth(table.certificate, table.private_key, table.password())


class Pusher:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="apns", daemon=True)
        self._thread.start()
        self._clients: dict[tuple[int, str], ApnsClient] = {}

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _client(self, program: Program) -> ApnsClient:
        key = (program.id, program.config_hash)
        client = self._clients.get(key)
        if client is None:
            auth = apns_auth(program)

            async def make() -> ApnsClient:
                return ApnsClient(self._settings.apns_url, auth, self._settings.apns_ca_file)

            client = self._run(make())
            self._clients[key] = client
        return client

    def push(self, program: Program, topic: str, tokens: list[str]) -> dict[str, Outcome]:
        if not tokens:
            return {}
        return self._run(self._client(program).push_many(tokens, topic))

    def close(self) -> None:
        for client in self._clients.values():
            self._run(client.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
