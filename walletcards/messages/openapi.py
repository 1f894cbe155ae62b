"""The owner's messages API in the OpenAPI document (walletcards/messages/api.py)."""

from __future__ import annotations

from typing import Any

from walletcards.admin.openapi_messages import message_page_paths
from walletcards.messages.inputs import MAX_LINK, MAX_MEMBERS, MAX_TEXT, MAX_TIERS
from walletcards.openapi import op

WRITES = (400, 401, 403, 404, 409, 413, 422)
TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}
CODES = {"type": "string", "maxLength": 63}
AUDIENCE = {
    "oneOf": [
        {"type": "object", "required": ["all"], "properties": {"all": {"enum": [True]}}},
        {"type": "object", "required": ["segment"], "properties": {"segment": CODES}},
        {
            "type": "object",
            "required": ["tiers"],
            "properties": {"tiers": {"type": "array", "maxItems": MAX_TIERS, "items": CODES}},
        },
        {
            "type": "object",
            "required": ["members"],
            "properties": {
                "members": {
                    "type": "array",
                    "maxItems": MAX_MEMBERS,
                    "items": {"type": "string", "maxLength": 20},
                }
            },
        },
    ]
}
WHEN = {"type": "string", "format": "date-time", "description": "ISO 8601 with its UTC offset"}
BODY = {
    "type": "object",
    "required": ["text", "kind", "audience"],
    "properties": {
        "text": {
            "type": "object",
            "description": "language -> text; the programme's languages, its default one required",
            "additionalProperties": TEXT,
        },
        "link": {"type": "string", "format": "uri", "maxLength": MAX_LINK},
        "kind": {"type": "string", "enum": ["marketing", "service"]},
        "audience": AUDIENCE,
        "send_at": WHEN,
        "expires_at": WHEN,
        "channels": {"type": "array", "items": {"type": "string", "enum": ["wallet", "email"]}},
    },
}
MESSAGE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": ["scheduled", "sending", "sent", "cancelled"]},
        "audience_size": {"type": "integer"},
        "kind": {"type": "string"},
        "audience": {"type": "object"},
        "text": {"type": "object"},
        "link": {"type": "string", "nullable": True},
        "channels": {"type": "array", "items": {"type": "string"}},
        "send_at": WHEN,
        "expires_at": {**WHEN, "nullable": True},
        "sent_at": {**WHEN, "nullable": True},
    },
}
COUNT = {"type": "integer"}
FIGURES = {
    "cards": {**COUNT, "description": "cards the message went to"},
    "pushed": {**COUNT, "description": "cards whose push APNs accepted"},
    "fetched_by_phone": {**COUNT, "description": "cards whose phone fetched the new pass"},
    "google_updated": COUNT,
    "skipped": {
        "type": "object",
        "properties": {"no_consent": COUNT, "cap": COUNT, "no_device": COUNT},
    },
    "failed": COUNT,
    "emailed": {**COUNT, "description": "emails the SMTP relay took (channel email)"},
    "email_skipped": {
        "type": "object",
        "properties": {"no_email": COUNT, "no_consent": COUNT, "cap": COUNT},
    },
    "email_failed": COUNT,
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _one(properties: dict[str, Any]) -> dict[str, Any]:
    return _json({"type": "object", "properties": {"message": MESSAGE, **properties}})


def message_paths() -> dict[str, dict[str, Any]]:
    base = "/api/v1/programs/{slug}/messages"
    listing = op("The latest 100 messages (manager)", "messages", 401, 403, 404, auth=True)
    listing["responses"]["200"] = {
        "description": "newest first",
        **_json(
            {"type": "object", "properties": {"messages": {"type": "array", "items": MESSAGE}}}
        ),
    }
    create = op("Schedule a message (manager)", "messages", *WRITES, auth=True, idempotent=True)
    del create["responses"]["200"]
    create["responses"]["201"] = {"description": "the message", **_one({})}
    create["requestBody"] = {"required": True, **_json(BODY)}
    show = op("A message with its delivery figures", "messages", 401, 403, 404, auth=True)
    show["responses"]["200"] = {"description": "the message", **_one(FIGURES)}
    cancel = op(
        "Cancel a message not yet sent", "messages", *WRITES, body=True, auth=True, idempotent=True
    )
    cancel["responses"]["200"] = {"description": "the message", **_one({})}
    return {
        base: {"get": listing, "post": create},
        f"{base}/{{message_id}}": {"get": show},
        f"{base}/{{message_id}}/cancel": {"post": cancel},
        **message_page_paths(),  # the dashboard's pages (admin/messages_page.py)
    }
