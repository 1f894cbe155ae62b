"""The integration API's part of the OpenAPI document: online redemptions (reservations)."""

from __future__ import annotations

from typing import Any

from walletcards.openapi import op

TEXT = {"type": "string", "minLength": 1, "maxLength": 200}
WRITES = (400, 401, 403, 404, 409, 422)
REDEMPTION = {
    "type": "object",
    "properties": {
        "redemption": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "status": {"type": "string", "enum": ["reserved", "captured", "released"]},
                "points": {"type": "integer"},
                "value": {"$ref": "#/components/schemas/Money"},
                "code": {"type": "string", "nullable": True},
                "expires_at": {"type": "string", "format": "date-time"},
                "channel": {"type": "string"},
                "reference": {"type": "string", "nullable": True},
                "order_id": {"type": "string", "nullable": True},
                "released_cause": {"type": "string", "nullable": True},
            },
        },
        "balance": {
            "type": "object",
            "properties": {"available": {"type": "integer"}, "pending": {"type": "integer"}},
        },
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _body(required: list[str], **properties: Any) -> dict[str, Any]:
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, **_json(schema)}


def _write(summary: str, *, status: str = "200") -> dict[str, Any]:
    operation = op(summary, "redemptions", *WRITES, body=True, auth=True, idempotent=True)
    del operation["responses"]["200"]
    operation["responses"][status] = {"description": "the redemption", **_json(REDEMPTION)}
    return operation


def redemption_paths() -> dict[str, dict[str, Any]]:
    base = "/api/v1/programs/{slug}/redemptions"
    create = _write("Reserve a customer's points for a code (integration or manager)", status="201")
    create["requestBody"] = _body(
        ["customer", "points", "channel"],
        customer={
            "type": "object",
            "description": "exactly one of member_number (20), email (320), external_id (500)",
            "minProperties": 1,
            "maxProperties": 1,
            "properties": {
                "member_number": {"type": "string", "maxLength": 20},
                "email": {"type": "string", "maxLength": 320},
                "external_id": {"type": "string", "maxLength": 500},
            },
        },
        points={"type": "integer", "minimum": 1, "description": "within [redemption] rules"},
        channel={"type": "string", "enum": ["shopify", "woocommerce", "api"]},
        reference=TEXT,
    )
    capture = _write("Capture a reservation: the points are spent (idempotent)")
    capture["requestBody"] = _body(
        [],
        order_id=TEXT,
        order_total={
            "type": "string",
            "pattern": r"^[0-9]{1,15}(\.[0-9]{1,3})?$",
            "description": "the order's subtotal before the code, checked against"
            " [redemption] max_share (409 share_exceeded); required where no shop holds the code"
            " and max_share is set",
        },
    )
    show = op("A redemption and the card's balance", "redemptions", 401, 403, 404, auth=True)
    show["responses"]["200"] = {"description": "the redemption", **_json(REDEMPTION)}
    return {
        base: {"post": create},
        f"{base}/{{redemption_id}}": {"get": show},
        f"{base}/{{redemption_id}}/capture": {"post": capture},
        f"{base}/{{redemption_id}}/release": {
            "post": _write("Release a reservation: the points come back (once)")
        },
    }
