"""The dashboard's messages pages in the OpenAPI document (walletcards/admin/messages_page.py);
merged into the messages API's paths (walletcards/messages/openapi.py)."""

from __future__ import annotations

from typing import Any

from walletcards.openapi import ERROR, page

FORM = {
    "type": "object",
    "required": ["csrf_token", "kind"],
    "properties": {
        "csrf_token": {"type": "string"},
        "text_<lang>": {"type": "string", "description": "one field per programme language"},
        "link": {"type": "string"},
        "kind": {"type": "string", "enum": ["marketing", "service"]},
        "audience": {"type": "string", "enum": ["all", "segment", "tiers"]},
        "segment": {"type": "string"},
        "tiers": {"type": "array", "items": {"type": "string"}},
        "send_at": {"type": "string", "description": "local date-time in the programme's zone"},
        "email": {"type": "string", "description": "present: email too"},
    },
}


def _post(summary: str, form: dict[str, Any]) -> dict[str, Any]:
    return {
        "summary": summary,
        "tags": ["dashboard"],
        "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": form}}},
        "responses": {
            "303": {"description": "to the message's page (or the sign-in when signed out)"},
            "403": ERROR,
            "404": ERROR,
            "422": {"description": "the form again with the reason", "content": {"text/html": {}}},
        },
    }


def message_page_paths() -> dict[str, dict[str, Any]]:
    listing = page("The message form and the latest messages (manager)", "dashboard")
    show = page("A message's delivery figures and chart (manager)", "dashboard")
    csrf_only = {"type": "object", "properties": {"csrf_token": {"type": "string"}}}
    return {
        "/admin/messages/": {
            "get": listing,
            "post": _post("Schedule a message from the dashboard", FORM),
        },
        "/admin/messages/{message_id}": {"get": show},
        "/admin/messages/{message_id}/cancel": {
            "post": _post("Cancel a scheduled message", csrf_only)
        },
    }
