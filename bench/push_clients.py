"""The two APNs clients bench/push.py compares, each sending ``count`` pushes in batches of
1,000 and measured in wall seconds and this process's CPU seconds: the h2 client the worker
uses (walletcards/apple/apns.py) and, as the baseline, the httpx client it replaced (one
``AsyncClient(http2=True)``, 4 connections, 200 streams at a time: what the worker ran until
issue 21)."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from walletcards.apple.apns import ApnsClient, CertificateAuth

Measured = tuple[float, float]  # wall seconds, CPU seconds


async def _timed(count: int, send: Callable[[list[str]], Awaitable[object]]) -> Measured:
    tokens = [f"{i:064x}" for i in range(count)]
    await send(tokens[:100])  # connect, warm up
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(0, count, 1000):
        await send(tokens[i : i + 1000])
    return time.perf_counter() - wall, time.process_time() - cpu


def h2_client(url: str, ca: Path, auth: CertificateAuth, topic: str, count: int) -> Measured:
    async def run() -> Measured:
        client = ApnsClient(url, auth, str(ca))
        try:
            return await _timed(count, lambda tokens: client.push_many(tokens, topic))
        finally:
            await client.aclose()

    return asyncio.run(run())


def httpx_client(url: str, ca: Path, auth: CertificateAuth, topic: str, count: int) -> Measured:
    async def run() -> Measured:
        context = ssl.create_default_context()
        context.load_verify_locations(ca)
        context.load_cert_chain(auth.certificate, auth.private_key, auth.password)
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
        streams = asyncio.Semaphore(200)
        async with httpx.AsyncClient(
            base_url=url, http2=True, verify=context, timeout=10.0, limits=limits
        ) as client:

            async def one(token: str) -> int:
                async with streams:
                    response = await client.post(
                        f"/3/device/{token}", content=b"{}", headers={"apns-topic": topic}
                    )
                    return response.status_code

            async def many(tokens: list[str]) -> None:
                statuses = await asyncio.gather(*(one(token) for token in tokens))
                assert set(statuses) == {200}, set(statuses)

            return await _timed(count, many)

    return asyncio.run(run())
