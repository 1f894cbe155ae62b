"""An APNs provider for pass updates: HTTP/2 over one long-lived connection pool.

``POST <WALLETCARDS_APNS_URL>/3/device/<pushToken>`` with ``apns-topic: <passTypeIdentifier>``
and the payload ``{}`` (FACTS: Apple Wallet). Authentication with the pass's own Pass Type ID
certificate (Apple's documented way for passes) or with a token (.p8 key, ES256 JWT, reused
for 40 minutes: APNs answers 403/429 to JWTs refreshed too often or too rarely).
Responses: 200 done; 410 Unregistered and 400 BadDeviceToken/DeviceTokenNotForTopic mean the
registration is dead; 429 and 5xx retry later; 403 is a configuration error. Outcomes are per
device: nothing one device's token or answer does can fail another device's push. Logs show
push tokens by their first 8 characters only (:func:`short`). :class:`ApnsPusher` is the
service's ``ApnsPush`` (walletcards/clients.py): one private event loop, one client per
programme credentials.
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

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from walletcards.apple.identifiers import push_token_ok
from walletcards.cache import KeyedCache

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


def short(token: str) -> str:
    """Push tokens are secrets of a kind: logs show only their first characters (and never a
    control character from a token stored before registrations were checked)."""
    return "".join(c if c.isascii() and c.isalnum() else "?" for c in token[:8]) + "…"


class _ShortTokensInUrls(logging.Filter):
    """httpx logs every request at INFO as ``HTTP Request: POST https://…/3/device/<token> …``
    (the worker logs at INFO): shorten the token there too."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _short_url(arg) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


def _short_url(url: httpx.URL) -> str | httpx.URL:
    prefix, _, token = url.path.partition("/3/device/")
    if prefix or not token:
        return url
    return f"{url.scheme}://{url.netloc.decode()}/3/device/{short(token)}"


logging.getLogger("httpx").addFilter(_ShortTokensInUrls())


def _reason(response: httpx.Response) -> str:
    """APNs's ``{"reason": "..."}``, or "" for any other body (it is logged: keep it tame)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    reason = body.get("reason") if isinstance(body, dict) else None
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
    """One programme's connection to APNs; lives as long as the worker, on its event loop."""

    def __init__(
        self,
        base_url: str,
        auth: CertificateAuth | TokenAuth,
        ca_file: str | None,
        max_streams: int = 200,
        timeout: float = 10.0,
    ) -> None:
        context = ssl.create_default_context()
        if ca_file:
            context.load_verify_locations(ca_file)  # a loopback APNs in tests, or a proxy's CA
        self._token: TokenSigner | None = None
        if isinstance(auth, CertificateAuth):
            context.load_cert_chain(auth.certificate, auth.private_key, auth.password)
        else:
            self._token = TokenSigner(auth)
        self._client = httpx.AsyncClient(
            base_url=base_url,
            http2=True,
            verify=context,
            timeout=timeout,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
        )
        self._streams = asyncio.Semaphore(max_streams)
        self.forbidden_reported = False

    async def push(self, token: str, topic: str) -> Outcome:
        """One device's push. Never raises: whatever goes wrong is this device's outcome alone,
        so one bad token or answer cannot fail the rest of a batch."""
        try:
            return await self._send(token, topic)
        except httpx.InvalidURL:  # control characters and the like: no request can carry it
            log.warning("APNs: push token %s cannot be sent; dropping it", short(token))
            return Outcome.DEAD
        except Exception as exc:  # a surprise from one device: try that device again later
            log.warning("APNs push to %s failed: %s", short(token), type(exc).__name__)
            return Outcome.RETRY

    async def _send(self, token: str, topic: str) -> Outcome:
        headers = {"apns-topic": topic}
        if self._token is not None:
            headers["authorization"] = f"bearer {self._token.current()}"
        async with self._streams:
            try:
                response = await self._client.post(
                    f"/3/device/{token}", content=b"{}", headers=headers
                )
            except httpx.HTTPError as exc:  # dropped connection, GOAWAY, timeout: reconnects
                log.info("APNs connection problem for %s: %s", short(token), type(exc).__name__)
                return Outcome.RETRY
        if response.status_code == 200:
            return Outcome.DELIVERED
        reason = _reason(response)
        if response.status_code == 410 or (response.status_code == 400 and reason in DEAD_REASONS):
            return Outcome.DEAD
        if response.status_code == 403:
            if not self.forbidden_reported:
                log.error(
                    "APNs refused our credentials (403 %s): check the [apple] certificate "
                    "or key for topic %s",
                    reason,
                    topic,
                )
                self.forbidden_reported = True
            return Outcome.FORBIDDEN
        if response.status_code == 400:  # BadTopic, BadPath, ...: our request, not the device
            log.error("APNs 400 %s for topic %s", reason, topic)
            return Outcome.FORBIDDEN
        return Outcome.RETRY  # 429, 5xx

    async def push_many(self, tokens: list[str], topic: str) -> dict[str, Outcome]:
        """Every token's outcome. Tokens that are not APNs device tokens (hex, FACTS-2 §4) are
        dead without a request: sent, they could only come back as a failure."""
        sendable = [token for token in tokens if push_token_ok(token)]
        outcomes = dict.fromkeys(tokens, Outcome.DEAD)
        for token in set(tokens) - set(sendable):
            log.warning("APNs: push token %s is malformed; dropping it", short(token))
        results = await asyncio.gather(*(self.push(token, topic) for token in sendable))
        outcomes.update(zip(sendable, results, strict=True))
        return outcomes

    async def aclose(self) -> None:
        await self._client.aclose()


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
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

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
