"""The owner's API's part of the OpenAPI document: segments (RFM groups and rule segments)."""

from __future__ import annotations

from typing import Any

from walletcards.openapi import op


def segment_paths() -> dict[str, dict[str, Any]]:
    base = "/api/v1/programs/{slug}/segments"
    listing = op("Segments with their sizes and daily history (manager)", "segments", 400, 401)
    listing["responses"]["403"] = listing["responses"]["401"]
    listing["parameters"] = [
        {"name": "lang", "in": "query", "schema": {"type": "string", "maxLength": 10}},
        {
            "name": "days",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 366},
        },
    ]
    listing["security"] = [{"bearer": []}, {"session": []}]
    members = op("A segment's members as CSV (manager)", "segments", 401, 403, 404, auth=True)
    members["responses"]["200"] = {
        "description": "member_number, name, email, phone, tier, available, pending",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
    return {base: {"get": listing}, base + "/{code}/members.csv": {"get": members}}
