"""``GET /metrics`` (bearer token ``WALLETCARDS_METRICS_TOKEN``; 404 unset): the counters of
:mod:`walletcards.metrics` plus backlog gauges read from the database at scrape time; and the
request timers every answer passes through."""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, abort, g, request
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from walletcards import web
from walletcards.errors import ApiError
from walletcards.loyalty.models import Program
from walletcards.metrics import LATENCY, RESPONSES, webhook_delivery
from walletcards.orders.sources import SOURCES
from walletcards.readiness import backlog, certificate_expiries

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # the text format every Prometheus reads
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

bp = Blueprint("metrics", __name__)


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
                source if isinstance(source, str) and source in SOURCES else "unknown",
                str(code or response.status_code),
            )
        return response

    app.register_blueprint(bp)


@bp.get("/metrics")
def scrape() -> Response:
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
    database, now = web.database(), web.clock().now()
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(_DatabaseGauges(database, now))
    body = generate_latest(counters) + generate_latest(gauges)
    return Response(body, mimetype=None, content_type=CONTENT_TYPE)


class _DatabaseGauges:
    """Backlogs and certificate expiries, computed from the database at scrape time (so every
    process answers the same, whichever one the scrape reaches)."""

    def __init__(self, database: Any, now: Any) -> None:
        self.database, self.now = database, now

    def collect(self) -> Iterator[Metric]:
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
