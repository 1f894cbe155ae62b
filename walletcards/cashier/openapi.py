"""The till's enrolment in the OpenAPI document (walletcards/openapi.py holds the rest)."""

from __future__ import annotations

from typing import Any

from walletcards.openapi import op

TEXT = {"type": "string", "nullable": True}
TILL_CARD = {"$ref": "#/components/schemas/TillAnswer"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def enrolment_paths() -> dict[str, dict[str, Any]]:
    operation = op(
        "A walk-in joins: a new member and card, or 409 already_member with the card their "
        "email or phone has (cashier, manager, admin)",
        "till",
        400,
        401,
        403,
        413,
        422,
        body=True,
        auth=True,
        idempotent=True,
    )
    del operation["responses"]["200"]
    operation["requestBody"] = {
        "required": True,
        **_json(
            {
                "type": "object",
                "description": "at least one of email and phone; blank fields are not given",
                "properties": {
                    "name": {**TEXT, "maxLength": 200},
                    "email": {**TEXT, "maxLength": 320},
                    "phone": {**TEXT, "maxLength": 40, "description": "E.164, or national in "
                              "the programme's [join] phone_region"},
                    "birthday": {**TEXT, "format": "date", "description": "1900-01-01 to today"},
                    "language": {**TEXT, "description": "one of the programme's languages"},
                    "marketing_consent": {"type": "boolean", "default": False},
                },
            }
        ),
    }  # fmt: skip
    created = {
        "allOf": [
            TILL_CARD,
            {
                "type": "object",
                "properties": {
                    "code": {"type": "string", "description": "what earn takes: the number"},
                    "created": {"type": "boolean"},
                    "card": {"type": "object", "description": "url, apple, google (links)"},
                    "card_qr_svg": {"type": "string", "description": "QR of the card page"},
                },
            },
        ]
    }
    found = {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "object"}, "card": TILL_CARD},  # card: already_member
    }
    operation["responses"]["201"] = {"description": "the new member's card", **_json(created)}
    operation["responses"]["409"] = {
        "description": "already_member (with the card found) or idempotency_conflict",
        **_json(found),
    }
    return {"/api/v1/cashier/enrol": {"post": operation}}
