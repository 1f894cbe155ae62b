"""An APNs provider for pass updates: HTTP/2 frames over a few long-lived TLS connections.

``POST <WALLETCARDS_APNS_URL>/3/device/<pushToken>`` with ``apns-topic: <passTypeIdentifier>``
and the payload ``{}`` (FACTS: Apple Wallet). Authentication with the pass's own Pass Type ID
certificate (Apple's documented way for passes) or with a token (.p8 key, ES256 JWT, reused
for 40 minutes: APNs answers 403/429 to JWTs refreshed too often or too rarely).
Responses: 200 done; 410 Unregistered and 400 BadDeviceToken/DeviceTokenNotForTopic mean the
registration is dead; 429 and 5xx retry later; 403 is a configuration error. Outcomes are per
device: nothing one device's token or answer does can fail another device's push. Logs show
push tokens by their first 8 characters only (:func:`short`). The wire is ``h2`` over asyncio
(apns_h2.py, apns_pool.py: as many concurrent streams per connection as the server allows,
another connection when one is saturated): ~0.1 ms of CPU per push where httpx took 1.35 ms
(BENCHMARKS.md, Pushes). :class:`ApnsPusher` is the service's ``ApnsPush``
(walletcards/clients.py): one private event loop, one client per programme credentials.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import json
import logging
import ssl
import threading
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hpack import NeverIndexedHeaderTuple

from walletcards.apple.apns_h2 import Request, short
from walletcards.apple.apns_pool import H2Pool
from walletcards.apple.identifiers import push_token_ok
from walletcards.cache import KeyedCache

__all__ = ["ApnsClient", "ApnsPusher", "CertificateAuth", "Outcome", "TokenAuth", "short"]
log = logging.getLogger(__name__)
T = TypeVar("T")
JWT_LIFETIME = 40 * 60
DEAD_REASONS = {"BadDeviceToken", "DeviceTokenNotForTopic", "Unregistered"}


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    DEAD = "dead"  # delete the registration
    RETRY = "retry"  # 429, 5xx, a dropped connection: try this device again later
    FORBIDDEN = "forbidden"  # 403: the credentials are wrong; do not loop


@dataclass(frozen=True)
class CertificateAuth:
    certificate: str
    private_key: str
    password: str | None


@dataclass(frozen=True)
class TokenAuth:
    key_file: str
    key_id: str
    team_id: str


def _reason(body: bytes) -> str:
    """APNs's ``{"reason": "..."}``, or "" for any other body (it is logged: keep it tame)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return ""
    reason = parsed.get("reason") if isinstance(parsed, dict) else None
    if not isinstance(reason, str) or not (reason.isascii() and reason.isprintable()):
        return ""
    return reason[:64]


class TokenSigner:
    """ES256 provider JWTs, reused for ``JWT_LIFETIME`` seconds."""

    def __init__(self, auth: TokenAuth) -> None:
        key = serialization.load_pem_private_key(Path(auth.key_file).read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the APNs key (.p8) must be an EC P-256 key")
        self._key, self._auth = key, auth
        self._jwt, self._issued = "", 0.0

    def current(self) -> str:
        now = time.time()
        if not self._jwt or now - self._issued > JWT_LIFETIME:
            self._jwt, self._issued = self._sign(int(now)), now
        return self._jwt

    def _sign(self, issued_at: int) -> str:
        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        header = b64(json.dumps({"alg": "ES256", "kid": self._auth.key_id}).encode())
        claims = b64(json.dumps({"iss": self._auth.team_id, "iat": issued_at}).encode())
        signing_input = f"{header}.{claims}".encode()
        r, s = decode_dss_signature(self._key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return f"{header}.{claims}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class ApnsClient:
    """One programme's connections to APNs; lives as long as the worker, on its event loop
    (make it there: the pool belongs to the running loop)."""

    def __init__(
        self,
        base_url: str,
        auth: CertificateAuth | TokenAuth,
        ca_file: str | None,
        max_streams: int = 1000,
        timeout: float = 10.0,
        max_connections: int = 4,
    ) -> None:
        context = ssl.create_default_context()
        context.set_alpn_protocols(["h2"])
        if ca_file:
            context.load_verify_locations(ca_file)  # a loopback APNs in tests, or a proxy's CA
        self._token: TokenSigner | None = None
        if isinstance(auth, CertificateAuth):
            context.load_cert_chain(auth.certificate, auth.private_key, auth.password)
        else:
            self._token = TokenSigner(auth)
        url = urlsplit(base_url)
        if url.scheme != "https" or not url.hostname:
            raise ValueError(f"APNs needs an https URL, not {base_url!r}")
        self._authority = url.netloc.encode()
        self._prefix = url.path.rstrip("/") + "/3/device/"
        self._pool = H2Pool(
            url.hostname, url.port or 443, context, max_connections, max_streams, timeout
        )
        self._headers: tuple[str, list[tuple[bytes, bytes]]] = ("", [])
        self.forbidden_reported = False

    @property
    def connections_opened(self) -> int:
        return self._pool.opened

    def _common(self, topic: str) -> list[tuple[bytes, bytes]]:
        """Every header but the path, built once per topic and JWT (HPACK indexes them)."""
        bearer = self._token.current() if self._token is not None else ""
        key = f"{topic} {bearer}"
        if self._headers[0] != key:
            headers = [
                (b":method", b"POST"),
                (b":scheme", b"https"),
                (b":authority", self._authority),
                (b"apns-topic", topic.encode()),
            ]
            if bearer:
                headers.append((b"authorization", f"bearer {bearer}".encode()))
            self._headers = (key, headers)
        return self._headers[1]

    async def push(self, token: str, topic: str) -> Outcome:
        """One device's push. Never raises: whatever goes wrong is this device's outcome alone."""
        return (await self.push_many([token], topic))[token]

    async def push_many(self, tokens: list[str], topic: str) -> dict[str, Outcome]:
        """Every token's outcome. Tokens that are not APNs device tokens (hex, FACTS-2 §4) are
        dead without a request: sent, they could only come back as a failure."""
        outcomes = dict.fromkeys(tokens, Outcome.DEAD)
        sendable = [token for token in outcomes if push_token_ok(token)]
        for token in outcomes.keys() - set(sendable):
            log.warning("APNs: push token %s is malformed; dropping it", short(token))
        if not sendable:
            return outcomes
        done = asyncio.get_running_loop().create_future()
        left = len(sendable)

        def finished(request: Request, status: int, body: bytes) -> None:
            nonlocal left
            outcomes[request.token] = self._outcome(status, body, topic)
            left -= 1
            if not left and not done.done():
                done.set_result(None)

        common = self._common(topic)
        prefix = self._prefix
        self._pool.submit(
            [
                Request(
                    token,
                    [
                        *common[:2],
                        NeverIndexedHeaderTuple(b":path", f"{prefix}{token}".encode()),
                        *common[2:],
                    ],
                    finished,
                )
                for token in sendable
            ]
        )
        await done
        return outcomes

    def _outcome(self, status: int, body: bytes, topic: str) -> Outcome:
        if status == 200:
            return Outcome.DELIVERED
        if status == 0:  # no answer: connection lost, refused, timed out (logged by the pool)
            return Outcome.RETRY
        reason = _reason(body)
        if status == 410 or (status == 400 and reason in DEAD_REASONS):
            return Outcome.DEAD
        if status == 403:
            if not self.forbidden_reported:
                log.error(
                    "APNs refused our credentials (403 %s): check the [apple] certificate "
                    "or key for topic %s",
                    reason,
                    topic,
                )
                self.forbidden_reported = True
            return Outcome.FORBIDDEN
        if status == 400:  # BadTopic, BadPath, ...: our request, not the device
            log.error("APNs 400 %s for topic %s", reason, topic)
            return Outcome.FORBIDDEN
        return Outcome.RETRY  # 429, 5xx

    async def aclose(self) -> None:
        await self._pool.aclose()


RESULT_TIMEOUT = 120.0  # seconds a batch of pushes may take before the worker gives up on it


class ApnsPusher:
    """Pushes from synchronous code (the worker): the clients live on a private event loop
    thread, started by the first push; one long-lived :class:`ApnsClient` per credentials."""

    def __init__(self, base_url: str, ca_file: str | None) -> None:
        self._base_url, self._ca_file = base_url, ca_file
        self._clients: KeyedCache[CertificateAuth | TokenAuth, ApnsClient] = KeyedCache()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="apns", daemon=True
                )
                self._thread.start()
            loop = self._loop
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:  # every request ends within the pool's timeouts; this bounds a bug, not the server
            return future.result(timeout=RESULT_TIMEOUT)
        except TimeoutError:
            future.cancel()
            raise

    def _client(self, auth: CertificateAuth | TokenAuth) -> ApnsClient:
        async def make() -> ApnsClient:  # on the loop that will use it
            return ApnsClient(self._base_url, auth, self._ca_file)

        return self._clients.get(auth, lambda: self._run(make()))

    def push(
        self, auth: CertificateAuth | TokenAuth, topic: str, tokens: Sequence[str]
    ) -> dict[str, Outcome]:
        if not tokens:
            return {}
        return self._run(self._client(auth).push_many(list(tokens), topic))

    def close(self) -> None:
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        for client in self._clients.take_all():
            asyncio.run_coroutine_threadsafe(client.aclose(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
