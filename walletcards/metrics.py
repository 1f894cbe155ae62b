"""Prometheus counters, bumped where things happen (``GET /metrics`` and the scrape-time gauges:
:mod:`walletcards.metrics_http`).

Under gunicorn (several processes) set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory
before the processes start: each writes its counters there and a scrape adds them all up
(prometheus_client's multiprocess mode; walletcards/gunicorn_config.py does the bookkeeping).
Labels are bounded: endpoint names, never raw paths; error codes, never messages.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from prometheus_client import Counter, Histogram, disable_created_metrics
from sqlalchemy.orm import Session

from walletcards.db import on_commit

# no *_created series (one more per counter, of little use to anyone)
disable_created_metrics()  # type: ignore[no-untyped-call]
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # every process writes its counters there
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

WEBHOOKS = Counter(
    "walletcards_webhook_deliveries",
    "Shop webhook deliveries by source and outcome (applied, duplicate, ignored or error code)",
    ["source", "outcome"],
)
LEDGER_ENTRIES = Counter(
    "walletcards_ledger_entries", "Ledger entries committed, by kind", ["kind"]
)
PUSHES = Counter(
    "walletcards_pushes",
    "Wallet updates sent by the sync worker: Apple per device, Google per card",
    ["wallet", "result"],
)
GOOGLE_CALLS = Counter(
    "walletcards_google_api_calls",
    "Google Wallet API calls by HTTP status (unreachable: no answer)",
    ["status"],
)
LATENCY = Histogram(
    "walletcards_http_request_duration_seconds",
    "Time to answer a request, by endpoint (the view's name, not the path) and method",
    ["endpoint", "method"],
)
RESPONSES = Counter(
    "walletcards_http_responses", "Answers by endpoint and status", ["endpoint", "status"]
)


def webhook_delivery(source: str, outcome: str) -> None:
    WEBHOOKS.labels(source, outcome).inc()


def google_call(status: int | str) -> None:
    GOOGLE_CALLS.labels(str(status)).inc()


class _Claim(Protocol):  # walletcards.sync.cards.Claim, as far as counting goes
    @property
    def devices(self) -> list[tuple[int, str]]: ...
    @property
    def google(self) -> object | None: ...
    @property
    def google_outcome(self) -> Any: ...


def record_pushes(claims: Iterable[_Claim], outcomes: Mapping[str, Any]) -> None:
    """One step's results: each device's APNs outcome, each card's Google PATCH."""
    for claim in claims:
        for _, token in claim.devices:
            outcome = outcomes.get(token)
            PUSHES.labels("apple", outcome.value if outcome else "delivered").inc()
        if claim.google is not None:
            PUSHES.labels("google", claim.google_outcome.value).inc()


def count_entry(session: Session, kind: str) -> None:
    """Count a ledger entry when its transaction commits (a rolled-back retry counts nothing)."""
    on_commit(session, LEDGER_ENTRIES.labels(kind).inc)
