"""GET /healthz (the process answers: for liveness probes) and GET /readyz (it can serve: for
load balancers and readiness probes).

/readyz runs :func:`walletcards.readiness.service_checks`: 200 when none fails, 503 when one
does. A warning (a certificate expiring within 30 days) shows as ``"status": "warn"`` with a
200: taking every web process out of rotation a month before anything breaks would turn the
warning into the outage it warns about.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from walletcards import web
from walletcards.readiness import FAIL, overall, service_checks

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    return jsonify({"status": "ok"}), 200


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks = service_checks(web.database(), web.clock().now())
    status = overall(checks)
    body: dict[str, object] = {"status": status, "checks": [c.as_json() for c in checks]}
    if status == FAIL:
        failed = next(c for c in checks if c.status == FAIL)
        message = (
            f"{failed.name}{f' ({failed.program})' if failed.program else ''}: {failed.detail}"
        )
        body = {"error": {"code": "not_ready", "message": message}, **body}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 503 if status == FAIL else 200
