"""The owner's campaigns API in the OpenAPI document (admin/campaigns.py)."""

from __future__ import annotations

from typing import Any

from walletcards.openapi import op

WRITES = (400, 401, 403, 404, 409, 413, 422)
LOCAL = "a local date or date-time in the programme's time zone (every_year: month-day)"
DEFINITION: dict[str, Any] = {
    "type": "object",
    "description": "a [[campaigns]] table of the programme file, as JSON",
    "properties": {
        "code": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"},
        "name": {
            "oneOf": [
                {"type": "string", "maxLength": 200},
                {"type": "object", "additionalProperties": {"type": "string", "maxLength": 200}},
            ]
        },
        "kind": {"type": "string", "enum": ["multiplier", "bonus", "gift", "streak"]},
        "starts": {"type": "string", "description": LOCAL},
        "ends": {"type": "string", "description": LOCAL + "; a date alone: through that day"},
        "every_year": {"type": "boolean"},
        "multiplier": {"type": "string", "description": 'multiplier: a decimal above 1, "2"'},
        "points": {"type": "integer", "minimum": 1, "description": "bonus, gift, streak"},
        "orders": {"type": "integer", "minimum": 2, "maximum": 100, "description": "streak"},
        "within_days": {"type": "integer", "minimum": 1, "maximum": 366},
        "segment": {"type": "string", "description": "applies to nobody until segments exist"},
        "tiers": {"type": "array", "items": {"type": "string"}},
        "min_order_amount": {"type": "string", "description": "a decimal in the currency"},
        "expires_days": {"type": "integer", "minimum": 1, "maximum": 3650},
    },
}
MONEY = {"$ref": "#/components/schemas/Money"}
CAMPAIGN = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "definition": DEFINITION,
        "status": {"type": "string", "enum": ["scheduled", "running", "ended"]},
        "window": {
            "type": "object",
            "nullable": True,
            "properties": {
                "start": {"type": "string", "format": "date-time"},
                "end": {"type": "string", "format": "date-time"},
            },
        },
        "figures": {
            "type": "object",
            "nullable": True,
            "description": "the latest occurrence; null before it starts",
            "properties": {
                "reach": {"type": "integer", "description": "cards it paid"},
                "points_paid": {"type": "integer", "description": "less refunds"},
                "orders": {
                    "type": "object",
                    "properties": {"during": {"type": "integer"}, "before": {"type": "integer"}},
                },
                "spend": {"type": "object", "properties": {"during": MONEY, "before": MONEY}},
            },
        },
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def campaign_paths() -> dict[str, dict[str, Any]]:
    base = "/api/v1/programs/{slug}/campaigns"
    listing = op("The programme's campaigns with their figures", "admin", 401, 403, 404, auth=True)
    listing["responses"]["200"] = {
        "description": "every campaign",
        **_json(
            {"type": "object", "properties": {"campaigns": {"type": "array", "items": CAMPAIGN}}}
        ),
    }
    create = op("Add a campaign", "admin", *WRITES, body=True, auth=True, idempotent=True)
    del create["responses"]["200"]
    create["responses"]["201"] = {"description": "the campaign", **_json(CAMPAIGN)}
    create["requestBody"] = {"required": True, **_json({**DEFINITION, "required": ["code"]})}
    change = op(
        "Change a campaign's keys (null removes one)",
        "admin",
        *WRITES,
        body=True,
        auth=True,
        idempotent=True,
    )
    change["responses"]["200"] = {"description": "the campaign", **_json(CAMPAIGN)}
    change["requestBody"] = {"required": True, **_json(DEFINITION)}
    return {base: {"get": listing, "post": create}, f"{base}/{{code}}": {"patch": change}}
