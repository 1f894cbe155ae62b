"""A loopback Google Wallet API (a small Flask app on 127.0.0.1) and an HTTP adapter that lets
the real google-auth client reach nothing but loopback.

The fake checks the service account's signed token request, the bearer token, and every
body against the walletobjects v1 discovery document, and answers Google's way: 404 for a
missing id, 409 for an existing one, and the error envelope
``{"error": {"code", "message", "status", "errors": [{"reason"}]}}``; it can be scripted to
answer 403, 429 or 500 to the next calls of a method.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt as pyjwt
import requests
from flask import Flask, Response, jsonify, request

from tests.fakes.loopback import LoopbackFake
from walletcards.google.schema import load, validate

STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
}
REASON = {
    400: "invalid",
    401: "authError",
    403: "permissionDenied",
    404: "resourceNotFound",
    409: "duplicate",
    429: "rateLimitExceeded",
    500: "backendError",
}
KINDS = {"loyaltyClass": "LoyaltyClass", "loyaltyObject": "LoyaltyObject"}
# Google's own document, vendored (source and revision: tests/data/README.md)
DISCOVERY = Path(__file__).resolve().parent.parent / "data" / "walletobjects.v1.discovery.json"


def envelope(code: int, message: str) -> tuple[Response, int]:
    return jsonify(
        {
            "error": {
                "code": code,
                "message": message,
                "status": STATUS.get(code, ""),
                "errors": [{"reason": REASON.get(code, "error"), "message": message}],
            }
        }
    ), code


@dataclass
class FakeGoogle(LoopbackFake):
    discovery: str
    public_key_pem: bytes  # the service account's, to check the token request's signature
    store: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    script: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    calls: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    token_requests: int = 0

    def start(self) -> str:
        app = Flask("fake-google")
        schemas = load(self.discovery)["schemas"]

        @app.post("/token")
        def token() -> tuple[Response, int]:
            assertion = request.form.get("assertion", "")
            try:
                # google-auth names Google's token endpoint as the audience, whatever
                # token_uri the request is sent to
                claims = pyjwt.decode(
                    assertion,
                    self.public_key_pem,
                    algorithms=["RS256"],
                    audience="https://oauth2.googleapis.com/token",
                )
            except pyjwt.PyJWTError as exc:
                return jsonify({"error": "invalid_grant", "error_description": str(exc)}), 400
            assert "wallet_object.issuer" in claims.get("scope", "")
            self.token_requests += 1
            issued = secrets.token_urlsafe(16)
            self.tokens.add(issued)
            return jsonify(
                {"access_token": issued, "expires_in": 3600, "token_type": "Bearer"}
            ), 200

        @app.route("/walletobjects/v1/<kind>", methods=["POST"])
        @app.route("/walletobjects/v1/<kind>/<resource_id>", methods=["GET", "PATCH", "PUT"])
        def resource(kind: str, resource_id: str | None = None) -> tuple[Response, int]:
            body: Any = request.get_json(silent=True) if request.method != "GET" else None
            self.calls.append((request.method, kind, body))
            bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if bearer not in self.tokens:
                return envelope(401, "Request had invalid authentication credentials.")
            scripted = self.script.get(f"{request.method} {kind}")
            if scripted:
                code = scripted.pop(0)
                return envelope(
                    code,
                    {
                        403: "The caller does not have permission",
                        429: "Quota exceeded",
                        500: "Backend Error",
                    }.get(code, ""),
                )
            if kind not in KINDS:
                return envelope(404, f"unknown collection {kind}")
            if request.method in ("POST", "PATCH", "PUT"):
                if not isinstance(body, dict):
                    return envelope(400, "Invalid JSON payload received.")
                problems = validate(schemas, KINDS[kind], body)
                if request.method == "PATCH":  # a patch may omit required fields
                    problems = [p for p in problems if "required by" not in p]
                if problems:
                    return envelope(400, "; ".join(problems))
            items = self.store[kind]
            if request.method == "POST":
                if body["id"] in items:
                    return envelope(409, f"Resource already exists: {body['id']}")
                items[body["id"]] = body
                return jsonify(body), 200
            assert resource_id is not None
            if resource_id not in items:
                return envelope(404, f"Resource not found: {resource_id}")
            if request.method == "PATCH":
                items[resource_id] = {**items[resource_id], **body}  # arrays replaced wholesale
            elif request.method == "PUT":
                items[resource_id] = body
            return jsonify(items[resource_id]), 200

        @app.post("/walletobjects/v1/<kind>/<resource_id>/addMessage")
        def add_message(kind: str, resource_id: str) -> tuple[Response, int]:
            body: Any = request.get_json(silent=True)
            self.calls.append(("POST", f"{kind}/addMessage", body))
            bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if bearer not in self.tokens:
                return envelope(401, "Request had invalid authentication credentials.")
            scripted = self.script.get(f"POST {kind}/addMessage")
            if scripted:
                return envelope(scripted.pop(0), "scripted")
            if kind not in KINDS or not isinstance(body, dict):
                return envelope(400, "Invalid JSON payload received.")
            problems = validate(schemas, "AddMessageRequest", body)
            if problems:
                return envelope(400, "; ".join(problems))
            if resource_id not in self.store[kind]:
                return envelope(404, f"Resource not found: {resource_id}")
            item = self.store[kind][resource_id]
            item["messages"] = [*item.get("messages", []), body["message"]]
            return jsonify({"resource": item}), 200

        return self.serve(app)


class LoopbackOnly(requests.adapters.HTTPAdapter):
    """Sends to 127.0.0.1/localhost; refuses and records anything else (google-auth ≥ 2.55
    fires a background look-up to iamcredentials.googleapis.com after each token refresh)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []
        self.refused: list[str] = []

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        host = urlsplit(str(request.url)).hostname or ""
        if host not in ("127.0.0.1", "localhost"):
            self.refused.append(str(request.url))
            raise requests.ConnectionError(f"test transport: {host} is not loopback")
        self.sent.append(str(request.url))
        return super().send(request, *args, **kwargs)


def wait_for(predicate: Any, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())
