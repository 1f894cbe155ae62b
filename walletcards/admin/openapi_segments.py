"""The owner's API's part of the OpenAPI document: segments (RFM groups and rule segments), and
the dashboard's link to a segment's members (the same CSV with the dashboard's session)."""

from __future__ import annotations

from typing import Any

from walletcards.openapi import ERROR, op, page


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
    page_csv = page("A segment's members as CSV, signed in at /admin/ (manager)", "dashboard")
    page_csv["responses"] = {
        "200": members["responses"]["200"],
        **{str(code): ERROR for code in (401, 403, 404, 422)},
    }
    return {
        base: {"get": listing},
        base + "/{code}/members.csv": {"get": members},
        "/admin/segments/{code}/members.csv": {"get": page_csv},
    }
