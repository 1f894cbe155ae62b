"""The APNs client (h2 frames over asyncio TLS) against the loopback APNs (TLS + HTTP/2, client
certificate required): every answer APNs can give, a cut connection, a GOAWAY, a timeout, a
server that is not there, and the server's limit on concurrent streams."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from tests.fakes.apns import FakeApns
from tests.kit.apple import KEY_PASSWORD, PTID
from walletcards.apple.apns import ApnsClient, CertificateAuth, Outcome
from walletcards.apple.certificates import DevChain

T = TypeVar("T")
TOKENS = [f"{i:064x}" for i in range(1, 301)]


@pytest.fixture
def auth(chain_dir: Path, dev_chain: DevChain) -> CertificateAuth:
    return CertificateAuth(str(chain_dir / "pass.pem"), str(chain_dir / "pass.key"), KEY_PASSWORD)


def run(
    url: str,
    auth: CertificateAuth,
    ca: Path,
    use: Callable[[ApnsClient], Awaitable[T]],
    **options: float,
) -> tuple[T, ApnsClient]:
    async def go() -> tuple[T, ApnsClient]:
        client = ApnsClient(url, auth, str(ca), **options)  # type: ignore[arg-type]
        try:
            return await use(client), client
        finally:
            await client.aclose()

    return asyncio.run(go())


def push_all(
    apns: FakeApns, auth: CertificateAuth, tls: tuple[Path, Path, Path], tokens: list[str]
) -> tuple[dict[str, Outcome], ApnsClient]:
    return run(f"https://127.0.0.1:{apns.port}", auth, tls[0], lambda c: c.push_many(tokens, PTID))


def test_every_apns_answer_becomes_that_device_s_outcome_alone(
    apns: FakeApns,
    auth: CertificateAuth,
    tls_files: tuple[Path, Path, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers: list[int | str] = [200, 410, 400, 403, 429, 500, 503, "junk"]
    for token, answer in zip(TOKENS, answers, strict=False):
        apns.script[token] = [answer]
    caplog.set_level(logging.INFO)

    outcomes, client = push_all(apns, auth, tls_files, TOKENS[:50])

    assert [outcomes[t] for t in TOKENS[: len(answers)]] == [
        Outcome.DELIVERED,
        Outcome.DEAD,  # 410 Unregistered
        Outcome.DEAD,  # 400 BadDeviceToken
        Outcome.FORBIDDEN,  # 403: our credentials
        Outcome.RETRY,  # 429
        Outcome.RETRY,  # 500
        Outcome.RETRY,  # 503
        Outcome.RETRY,  # a 500 whose body is not an object
    ]
    assert {outcomes[t] for t in TOKENS[len(answers) : 50]} == {Outcome.DELIVERED}
    assert sorted(r.token for r in apns.requests) == sorted(TOKENS[:50])
    for request in apns.requests:
        assert request.method == "POST" and request.path == f"/3/device/{request.token}"
        assert request.headers["apns-topic"] == PTID and request.body == b"{}"
        assert request.client_subject is not None and f"userId={PTID}" in request.client_subject
    assert client.forbidden_reported and caplog.text.count("APNs refused our credentials") == 1
    assert client.connections_opened == 1


def test_a_400_about_the_request_not_the_device_is_forbidden(
    apns: FakeApns, auth: CertificateAuth, tls_files: tuple[Path, Path, Path]
) -> None:
    def bad_topic(client: ApnsClient) -> Awaitable[dict[str, Outcome]]:
        return client.push_many(TOKENS[:2], "pass.com.not.ours")

    apns.script[TOKENS[0]] = ["400 BadTopic"]
    apns.script[TOKENS[1]] = ["400 DeviceTokenNotForTopic"]
    outcomes, _ = run(f"https://127.0.0.1:{apns.port}", auth, tls_files[0], bad_topic)
    assert outcomes == {TOKENS[0]: Outcome.FORBIDDEN, TOKENS[1]: Outcome.DEAD}


def test_malformed_tokens_are_dead_without_a_request(
    apns: FakeApns, auth: CertificateAuth, tls_files: tuple[Path, Path, Path]
) -> None:
    bad = ["", "zz" * 32, "ab/../cd", "\x00" * 64]
    outcomes, _ = push_all(apns, auth, tls_files, [*bad, TOKENS[0]])
    assert outcomes == {**dict.fromkeys(bad, Outcome.DEAD), TOKENS[0]: Outcome.DELIVERED}
    assert [r.token for r in apns.requests] == [TOKENS[0]]


def test_a_cut_connection_retries_its_devices_and_the_next_push_reconnects(
    apns: FakeApns,
    auth: CertificateAuth,
    tls_files: tuple[Path, Path, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    apns.script[TOKENS[0]] = ["drop"]
    caplog.set_level(logging.INFO)

    async def twice(client: ApnsClient) -> tuple[dict[str, Outcome], dict[str, Outcome]]:
        first = await client.push_many(TOKENS[:1], PTID)
        return first, await client.push_many(TOKENS[:3], PTID)

    (first, second), client = run(f"https://127.0.0.1:{apns.port}", auth, tls_files[0], twice)
    assert first == {TOKENS[0]: Outcome.RETRY}
    assert set(second.values()) == {Outcome.DELIVERED}
    assert apns.connections == 2 and client.connections_opened == 2
    assert f"APNs connection problem for {TOKENS[0][:8]}…" in caplog.text
    assert TOKENS[0] not in caplog.text


def test_streams_the_server_never_took_before_its_goaway_are_sent_on_a_new_connection(
    apns: FakeApns, auth: CertificateAuth, tls_files: tuple[Path, Path, Path]
) -> None:
    apns.goaway_after = 40
    outcomes, client = push_all(apns, auth, tls_files, TOKENS[:100])
    assert set(outcomes.values()) == {Outcome.DELIVERED}
    assert sorted(r.token for r in apns.requests) == sorted(TOKENS[:100])  # each one once
    assert client.connections_opened == 3  # 40 + 40 + 20


def test_the_servers_stream_limit_is_respected_and_more_connections_open(
    apns: FakeApns, auth: CertificateAuth, tls_files: tuple[Path, Path, Path]
) -> None:
    apns.max_streams = 7
    apns.delay = 0.01  # answers take a while: the connections stay saturated
    outcomes, client = push_all(apns, auth, tls_files, TOKENS)
    assert set(outcomes.values()) == {Outcome.DELIVERED} and len(outcomes) == len(TOKENS)
    assert apns.protocol_errors == 0
    assert 1 < apns.peak_streams <= 7
    assert 1 < client.connections_opened <= 4  # a few, never one per push


def test_an_unanswered_push_times_out_as_retry(
    apns: FakeApns, auth: CertificateAuth, tls_files: tuple[Path, Path, Path]
) -> None:
    apns.delay = 3.0
    outcomes, _ = run(
        f"https://127.0.0.1:{apns.port}",
        auth,
        tls_files[0],
        lambda c: c.push_many(TOKENS[:2], PTID),
        timeout=0.5,
    )
    assert outcomes == dict.fromkeys(TOKENS[:2], Outcome.RETRY)


def test_a_connection_that_stays_silent_is_dropped_and_the_next_push_opens_a_new_one(
    apns: FakeApns, auth: CertificateAuth, tls_files: tuple[Path, Path, Path]
) -> None:
    apns.delay = 3.0  # nothing comes back within the timeout: as a connection a NAT dropped

    async def twice(client: ApnsClient) -> tuple[dict[str, Outcome], dict[str, Outcome]]:
        first = await client.push_many(TOKENS[:2], PTID)
        apns.delay = 0.0
        return first, await client.push_many(TOKENS[2:4], PTID)

    (first, again), client = run(
        f"https://127.0.0.1:{apns.port}", auth, tls_files[0], twice, timeout=0.5
    )
    assert first == dict.fromkeys(TOKENS[:2], Outcome.RETRY)
    assert again == dict.fromkeys(TOKENS[2:4], Outcome.DELIVERED)
    assert client.connections_opened == 2  # not written into the silent one again


def test_no_server_is_retry_for_every_device(
    auth: CertificateAuth, tls_files: tuple[Path, Path, Path]
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    async def twice(client: ApnsClient) -> tuple[dict[str, Outcome], dict[str, Outcome], float]:
        first = await client.push_many(TOKENS[:3], PTID)
        started = time.monotonic()
        again = await client.push_many(TOKENS[3:5], PTID)  # within the reconnect pause
        return first, again, time.monotonic() - started

    (first, again, waited), _ = run(f"https://127.0.0.1:{port}", auth, tls_files[0], twice)
    assert first == dict.fromkeys(TOKENS[:3], Outcome.RETRY)
    assert again == dict.fromkeys(TOKENS[3:5], Outcome.RETRY) and waited < 1.0  # not a timeout
