"""GET /healthz: is the process up and the database reachable (for load balancers)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from walletcards.db import Database

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    database: Database = current_app.extensions["walletcards.db"]
    if database.ping():
        return jsonify({"status": "ok", "database": "ok"}), 200
    return jsonify(
        {
            "error": {"code": "database_unreachable", "message": "the database is not reachable"},
            "status": "degraded",
            "database": "unreachable",
        }
    ), 503
