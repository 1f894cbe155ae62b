"""The storm half of bench/broadcast.py: gunicorn serving the PassKit web service, phones
GETting their passes over keep-alive connections, the raw RSA sign rate, processes' memory."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from bench.ledger import ROOT
from bench.push import PTID
from walletcards.apple.certificates import DevChain
from walletcards.db import Database

AUTH = "bench-authentication-token-0123"


def rsa_rate(chain: DevChain, seconds: float = 1.0) -> float:
    """Raw RSA-2048 signatures per second on one core with the pass's own key."""
    data = os.urandom(1024)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        chain.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        count += 1
    return count / (time.perf_counter() - start)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(server: subprocess.Popen[bytes]) -> list[float]:
    """Resident memory of each gunicorn worker (the master's children), MB."""
    found = []
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                found.append(int(line.split()[1]) / 1024)
    return sorted(found)


def own_rss_mb() -> float:
    """This process's resident memory (the worker drains in it), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def storm(
    port: int, serials: list[str], clients: int, since: str | None = None
) -> tuple[float, list[float], int]:
    """Each serial's pass GET over ``clients`` keep-alive connections; (elapsed, latencies,
    bytes received). Any answer but 200 fails the run; with ``since`` (If-Modified-Since, a
    phone whose copy is current) any answer but 304."""
    latencies: list[float] = []
    failures: list[int] = []
    received = [0]
    lock = threading.Lock()
    queue = list(reversed(serials))
    headers = {"Authorization": f"ApplePass {AUTH}"}
    expected = 200
    if since is not None:
        headers["If-Modified-Since"], expected = since, 304

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                serial = queue.pop()
            t0 = time.perf_counter()
            conn.request("GET", f"/passkit/v1/passes/{PTID}/{serial}", headers=headers)
            response = conn.getresponse()
            size = len(response.read())
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                received[0] += size
                if response.status != expected:
                    failures.append(response.status)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} pass GETs failed, e.g. HTTP {failures[0]}")
    return time.perf_counter() - start, latencies, received[0]


def serve(database: Database, workers: int, threads: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "WALLETCARDS_DATABASE_URL": database.url,
        "WALLETCARDS_PUBLIC_URL": "https://cards.example.com",
        "WALLETCARDS_SECRET_KEY": "bench-secret-key-0123456789",
    }
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "--workers", str(workers)),
            *("--threads", str(threads), "--worker-class", "gthread"),
            *("--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"),
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(200):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server, port
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("gunicorn did not start")
