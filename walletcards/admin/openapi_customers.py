"""The data rights' part of the OpenAPI document: a customer's export and erasure (owner's API),
the unsubscribe link and the card page's consent toggle."""

from __future__ import annotations

from typing import Any

from walletcards.openapi import ERROR, op, page

HTML: dict[str, Any] = {"content": {"text/html": {}}}
EXPORT = {
    "type": "object",
    "required": ["schema", "schema_version", "customer", "card"],
    "description": "everything kept about the member (README: Personal data); the card's "
    "secrets are left out, Apple push tokens masked",
    "properties": {
        "schema": {"type": "string", "enum": ["walletcards.customer-export"]},
        "schema_version": {"type": "integer", "enum": [1]},
        "exported_at": {"type": "string", "format": "date-time"},
        "customer": {"type": "object"},
        "consents": {"type": "array", "items": {"type": "object"}},
        "card": {"type": "object"},
        "orders": {"type": "array", "items": {"type": "object"}},
        "ledger": {"type": "array", "items": {"type": "object"}},
    },
}
ERASED = {
    "type": "object",
    "required": ["member_number", "status", "erased_at", "erased_by"],
    "properties": {
        "member_number": {"type": "string"},
        "status": {"type": "string", "enum": ["erased"]},
        "erased_at": {"type": "string", "format": "date-time"},
        "erased_by": {"type": "string"},
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def customer_paths() -> dict[str, dict[str, Any]]:
    base = "/api/v1/programs/{slug}/customers/{member}"
    export = op(
        "Everything kept about a member, as JSON (manager)", "admin", 401, 403, 404, auth=True
    )
    export["responses"]["200"] = {"description": "the export", **_json(EXPORT)}
    erase = op(
        "Erase a member's personal data (admin; once, idempotent)",
        "admin",
        400,
        401,
        403,
        404,
        409,
        422,
        body=True,
        auth=True,
        idempotent=True,
    )
    erase["requestBody"] = {
        "required": True,
        **_json({"type": "object", "maxProperties": 0, "description": "{}"}),
    }
    erase["responses"]["200"] = {"description": "erased (again: the same answer)", **_json(ERASED)}
    one_click = {
        "summary": "Withdraw marketing consent (the page's button, or RFC 8058 one-click)",
        "tags": ["card"],
        "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
            "type": "object", "properties": {"List-Unsubscribe": {"type": "string"}}}}}},
        "responses": {"200": {"description": "done (or done before)", **HTML}, "404": ERROR},
    }  # fmt: skip
    toggle = {
        "summary": "Give or withdraw marketing consent (the card page)",
        "tags": ["card"],
        "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
            "type": "object", "required": ["form", "marketing"],
            "properties": {"form": {"type": "string"},
                           "marketing": {"type": "string", "enum": ["on", "off"]}}}}}},
        "responses": {
            "200": {"description": "the card page, saying what changed", **HTML},
            **{str(code): {"description": why, **HTML} for code, why in (
                (400, "marketing neither on nor off"), (403, "form token missing or expired"),
                (429, "too many posts for this card or address"))},
            "404": ERROR,
        },
    }  # fmt: skip
    return {
        f"{base}/export": {"get": export},
        f"{base}/erasure": {"post": erase},
        "/unsubscribe/{token}": {
            "get": page("The unsubscribe page (one button)", "card"),
            "post": one_click,
        },
        "/c/{token}/consent": {"post": toggle},
    }
