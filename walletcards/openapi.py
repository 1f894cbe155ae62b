"""GET /api/v1/openapi.json: the OpenAPI 3 description of every public endpoint (a test checks
that every route of the app is documented here)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from walletcards.orders.sources import SOURCES

bp = Blueprint("openapi", __name__)

ERROR = {"$ref": "#/components/responses/Error"}
JSON_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}
# the staff sign-in forms' failures besides the redirect (walletcards.staff.signin)
SIGN_IN_REFUSED = {
    "400": {"description": "form expired (JSON error) or a field overlong or with control "
            "characters (the form again, text/html)"},
    "429": {"description": "too many attempts: the form again, Retry-After",
            "content": {"text/html": {}}},
}  # fmt: skip


def op(
    summary: str,
    tag: str,
    *codes: int,
    body: bool = False,
    auth: bool = False,
    idempotent: bool = False,
    answer: str | None = None,
) -> dict[str, Any]:
    """``answer``: the name of the 200 answer's schema in ``components.schemas``."""
    schema = {"$ref": f"#/components/schemas/{answer}"} if answer else {"type": "object"}
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
            **{str(code): ERROR for code in codes},
        },
    }
    if body:
        operation["requestBody"] = JSON_BODY
    if auth:
        operation["security"] = [{"bearer": []}, {"session": []}]
    if idempotent:
        operation["parameters"] = [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "description": "made before the first attempt; a retry sends it again",
                "schema": {"type": "string", "maxLength": 128, "pattern": "^[\\x20-\\x7e]+$"},
            }
        ]
    return operation


def page(summary: str, tag: str, media: str = "text/html") -> dict[str, Any]:
    return {
        "summary": summary,
        "tags": [tag],
        "responses": {"200": {"description": "OK", "content": {media: {}}}, "404": ERROR},
    }


def card_form(summary: str) -> dict[str, Any]:
    """A card page form post (walletcards.customer.redeem): the page again, text/html."""
    html: dict[str, Any] = {"content": {"text/html": {}}}
    return {
        "summary": summary,
        "tags": ["card"],
        "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
            "type": "object", "required": ["form"],
            "properties": {"form": {"type": "string"}, "points": {"type": "string"}}}}}},
        "responses": {
            "200": {"description": "the page with the code or the notice", **html},
            **{str(code): {"description": why, **html} for code, why in (
                (400, "points not a whole number"), (403, "form token missing or expired"),
                (404, "no such card or code"), (409, "points changed meanwhile, code used"),
                (422, "refused by the programme's rules or the balance"),
                (429, "too many posts for this card or address; Retry-After"))},
        },
    }  # fmt: skip


def _param(name: str) -> dict[str, Any]:
    kind = "integer" if name.endswith("_id") else "string"
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def query(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": "string", **schema},
    }


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {
        "/healthz": {"get": op("The process answers (liveness)", "service")},
        "/readyz": {
            "get": op("Database, migrations, Apple certificates (readiness)", "service", 503)
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (bearer WALLETCARDS_METRICS_TOKEN; 404 unset)",
                "tags": ["service"],
                "security": [{"bearer": []}],
                "responses": {
                    "200": {"description": "OK", "content": {"text/plain": {}}},
                    "401": ERROR,
                    "404": ERROR,
                },
            }
        },
        "/api/v1/openapi.json": {"get": op("This document", "service")},
        "/webhooks/{program}/{source}": {
            "post": op(
                f"A shop's webhook (source: {', '.join(SOURCES)}); see docs/webhooks.md",
                "webhooks",
                400,
                401,
                404,
                409,
                413,
                422,
                body=True,
            )
            | {
                "description": "Shopify and WooCommerce: 200 {status: accepted}, applied soon "
                "after; signed JSON: 200 and the card, or 202 and the delivery to poll"
            }
        },
        "/api/v1/programs/{slug}/deliveries/{ident}": {
            "get": op(
                "What became of an accepted webhook delivery (the programme's orders secret "
                "signing the path, or a manager / integration account); see docs/webhooks.md",
                "webhooks",
                401,
                403,
                404,
            )
        },
        "/c/{token}": {"get": page("The customer's card page", "card")},
        "/c/{token}/redemptions": {"post": card_form("Reserve points for a code (the card page)")},
        "/c/{token}/redemptions/{redemption_id}/release": {
            "post": card_form("Cancel an open code: its points come back (the card page)")
        },
        "/c/{token}/qr.svg": {"get": page("The card's QR code", "card", "image/svg+xml")},
        "/c/{token}/card.pkpass": {
            "get": page("The Apple Wallet pass", "card", "application/vnd.apple.pkpass")
        },
        "/c/{token}/google": {
            "get": {
                "summary": "Redirect to the Google Wallet save link",
                "tags": ["card"],
                "responses": {
                    "302": {"description": "to Google"},
                    "404": ERROR,
                    "502": ERROR,
                    "503": ERROR,
                },
            }
        },
        "/p/{slug}/logo.png": {"get": page("The programme's logo", "card", "image/png")},
        "/passkit/v1/devices/{device}/registrations/{ptid}/{serial}": {
            "post": op("Register a device for a pass (Apple)", "passkit", 400, 401, 413, body=True),
            "delete": op("Unregister a device (Apple)", "passkit", 400, 401),
        },
        "/passkit/v1/devices/{device}/registrations/{ptid}": {
            "get": op("Serials updated since a tag (Apple)", "passkit", 400)
        },
        "/passkit/v1/passes/{ptid}/{serial}": {
            "get": page(
                "The latest pass (Apple); 304 when not modified; 503 + Retry-After when busy",
                "passkit",
                "application/vnd.apple.pkpass",
            )
        },
        "/passkit/v1/log": {
            "post": op("Device error logs (Apple)", "passkit", 400, 413, 429, body=True)
        },
    }
    from walletcards.admin.openapi import admin_paths
    from walletcards.admin.openapi_campaigns import campaign_paths
    from walletcards.admin.openapi_customers import customer_paths
    from walletcards.admin.openapi_redemptions import redemption_paths
    from walletcards.admin.openapi_segments import segment_paths
    from walletcards.cashier.openapi import enrolment_paths
    from walletcards.cashier.openapi_till import answer_schemas, till_paths
    from walletcards.join.openapi import join_paths
    from walletcards.messages.openapi import message_paths

    paths.update(till_paths())
    paths.update(admin_paths())
    paths.update(campaign_paths())
    paths.update(enrolment_paths())
    paths.update(join_paths())
    paths.update(redemption_paths())
    paths.update(segment_paths())
    paths.update(customer_paths())
    paths.update(message_paths())
    for path, item in paths.items():
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        for operation in item.values():
            operation["parameters"] = [_param(n) for n in names] + operation.get("parameters", [])
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "walletcards",
            "version": "0.1.0",
            "description": "Loyalty cards in Apple Wallet and Google Wallet.",
        },
        "paths": paths,
        "components": {
            "schemas": answer_schemas(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "walletcards_till"},
            },
            "responses": {
                "Error": {
                    "description": "A clear error; nothing was changed",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["error"],
                                "properties": {
                                    "error": {
                                        "type": "object",
                                        "required": ["code", "message"],
                                        "properties": {
                                            "code": {"type": "string"},
                                            "message": {"type": "string"},
                                        },
                                    }
                                },
                            }
                        }
                    },
                }
            },
        },
    }


@bp.get("/api/v1/openapi.json")
def openapi() -> tuple[Response, int]:
    return jsonify(document()), 200
