"""Prometheus metrics: counters bumped where things happen, backlog gauges read from the database
at scrape time, and ``GET /metrics`` (bearer token ``WALLETCARDS_METRICS_TOKEN``; 404 unset).

Under gunicorn (several processes) set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory
before the processes start: each writes its counters there and a scrape adds them all up
(prometheus_client's multiprocess mode; walletcards/gunicorn_config.py does the bookkeeping).
Labels are bounded: endpoint names, never raw paths; error codes, never messages.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from flask import Blueprint, Flask, Response, abort, g, request
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

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
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # the text format every Prometheus reads
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
WEBHOOK_SOURCES = {"shopify", "woocommerce", "orders"}
_KINDS = "walletcards.metrics.entry_kinds"

bp = Blueprint("metrics", __name__)


def webhook_delivery(source: str, outcome: str) -> None:
    WEBHOOKS.labels(source, outcome).inc()


def google_call(status: int | str) -> None:
    GOOGLE_CALLS.labels(str(status)).inc()


class _Claim(Protocol):  # walletcards.sync.worker.Claim, as far as counting goes
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


# Ledger entries count when their transaction commits (a rolled-back retry counts nothing).
@event.listens_for(Session, "after_flush")
def _note_entries(session: Session, _flush: Any) -> None:
    from walletcards.loyalty.models import LedgerEntry

    kinds = [obj.kind for obj in session.new if isinstance(obj, LedgerEntry)]
    if kinds:
        session.info.setdefault(_KINDS, []).extend(kinds)


@event.listens_for(Session, "after_commit")
def _count_entries(session: Session) -> None:
    for kind in session.info.pop(_KINDS, ()):
        LEDGER_ENTRIES.labels(kind).inc()


@event.listens_for(Session, "after_rollback")
def _forget_entries(session: Session) -> None:
    session.info.pop(_KINDS, None)


def init_app(app: Flask) -> None:
    """Time every request; count webhook deliveries that were refused (their error code)."""

    @app.before_request
    def _start() -> None:
        g.metrics_start = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        endpoint = request.endpoint or "unmatched"
        method = request.method if request.method in METHODS else "other"
        started = g.get("metrics_start")
        if started is not None:
            LATENCY.labels(endpoint, method).observe(time.perf_counter() - started)
        RESPONSES.labels(endpoint, str(response.status_code)).inc()
        if endpoint == "webhooks.receive" and response.status_code >= 400:
            source = (request.view_args or {}).get("source")
            body = response.get_json(silent=True) if response.is_json else None
            code = body.get("error", {}).get("code") if isinstance(body, dict) else None
            webhook_delivery(
                source if source in WEBHOOK_SOURCES else "unknown",
                str(code or response.status_code),
            )
        return response

    app.register_blueprint(bp)


@bp.get("/metrics")
def scrape() -> Response:
    from walletcards import web
    from walletcards.errors import ApiError

    settings = web.settings()
    if settings.metrics_token is None:
        abort(404)
    scheme, _, given = request.headers.get("Authorization", "")[:1000].partition(" ")
    expected = settings.metrics_token.reveal().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        raise ApiError(
            401, "unauthorized", "GET /metrics needs Authorization: Bearer <the metrics token>"
        )
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counters = CollectorRegistry()
        MultiProcessCollector(counters)  # type: ignore[no-untyped-call]
    else:
        counters = REGISTRY
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(_DatabaseGauges(web.database(), web.clock().now()))
    body = generate_latest(counters) + generate_latest(gauges)
    return Response(body, mimetype=None, content_type=CONTENT_TYPE)


class _DatabaseGauges:
    """Backlogs and certificate expiries, computed from the database at scrape time (so every
    process answers the same, whichever one the scrape reaches)."""

    def __init__(self, database: Any, now: Any) -> None:
        self.database, self.now = database, now

    def collect(self) -> Iterator[Metric]:
        from walletcards.loyalty.models import Program
        from walletcards.readiness import backlog, certificate_expiries

        up = GaugeMetricFamily("walletcards_database_up", "1 when the database answers")
        try:
            with self.database.transaction() as session:
                found = backlog(session, self.now)
                programs = list(session.execute(select(Program)).scalars())
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "walletcards_push_backlog_cards",
            "Cards whose wallets are behind (waiting for the sync worker)",
            value=found.cards,
        )
        yield GaugeMetricFamily(
            "walletcards_push_backlog_oldest_seconds",
            "Since the oldest waiting card last changed (0: nothing waits)",
            value=found.oldest.total_seconds() if found.oldest else 0,
        )
        outbox = GaugeMetricFamily(
            "walletcards_outbox_backlog", "Outbox rows waiting", labels=["kind", "status"]
        )
        outbox.add_metric(["email", "pending"], found.emails)
        outbox.add_metric(["event", "pending"], found.events)
        outbox.add_metric(["event", "paused"], found.paused)
        yield outbox
        expiry = GaugeMetricFamily(
            "walletcards_apple_certificate_expiry_timestamp_seconds",
            "When the programme's Pass Type ID (or WWDR) certificate expires, Unix time",
            labels=["program"],
        )
        for slug, until in certificate_expiries(programs).items():
            expiry.add_metric([slug], until.timestamp())
        yield expiry
