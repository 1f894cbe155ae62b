"""One error shape for every response: ``{"error": {"code": "...", "message": "..."}}``."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from walletcards.loyalty.ledger import LedgerError
from walletcards.loyalty.programs import UnknownProgram

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Raise from a view to answer ``status`` with a JSON error; nothing has been written.
    ``extra``: more top-level members beside ``error`` (the till's 409 ``already_member``
    carries the card it found)."""

    def __init__(
        self, status: int, code: str, message: str, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}


def error_response(
    status: int, code: str, message: str, extra: dict[str, Any] | None = None
) -> tuple[Response, int]:
    return jsonify({**(extra or {}), "error": {"code": code, "message": message}}), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> tuple[Response, int]:
        return error_response(exc.status, exc.code, exc.message, exc.extra)

    @app.errorhandler(LedgerError)
    def _ledger_error(exc: LedgerError) -> tuple[Response, int]:
        return error_response(exc.status, exc.code, str(exc))

    @app.errorhandler(UnknownProgram)
    def _unknown_program(exc: UnknownProgram) -> tuple[Response, int]:
        return error_response(404, exc.code, str(exc))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(status, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "something went wrong on our side")
