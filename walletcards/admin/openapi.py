"""The owner's part of the OpenAPI document: the admin API and the dashboard's pages."""

from __future__ import annotations

from typing import Any

from walletcards.openapi import ERROR, SIGN_IN_REFUSED, op, page, query

DATE = {"format": "date"}
RANGE = [
    query("from", "first local day, YYYY-MM-DD (default: 30 days before to)", **DATE),
    query("to", "last local day, YYYY-MM-DD (default: today)", **DATE),
]


def _form(summary: str, target: str, refused: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "summary": summary,
        "tags": ["dashboard"],
        "responses": {"303": {"description": target}, **(refused or {})},
    }


def _body(required: list[str], **properties: Any) -> dict[str, Any]:
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


REASON = {"type": "string", "minLength": 1, "maxLength": 500, "description": "why (kept)"}


def admin_paths() -> dict[str, dict[str, Any]]:
    base = "/api/v1/programs/{slug}"
    customers = op(
        "Find customers by email, phone or member number", "admin", 401, 403, 404, 422, auth=True
    )
    customers["parameters"] = [query("q", "an email, phone or member number", maxLength=320)]
    metrics = op("The dashboard's numbers for a date range", "admin", 401, 403, 404, 422, auth=True)
    metrics["parameters"] = RANGE
    dashboard = page("The owner's dashboard (sign-in form when signed out)", "dashboard")
    dashboard["parameters"] = RANGE
    dashboard["responses"].update(
        {"400": {"description": "bad range"}, "403": {"description": "a cashier"}}
    )
    export = page("One dashboard table as CSV", "dashboard", "text/csv")
    export["parameters"] = [
        *RANGE,
        query("table", "series, tiers or top_customers", enum=["series", "tiers", "top_customers"]),
    ]
    export["responses"].update({str(c): ERROR for c in (401, 403, 422)})
    writes = (400, 401, 403, 404, 409, 422)
    settings_put = op(
        "Replace the programme document (validated like the TOML file)",
        "admin",
        *writes,
        412,
        body=True,
        auth=True,
    )
    settings_put["parameters"] = [
        {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"}}
    ]
    settings_put["requestBody"] = _body(
        ["config"], config={"type": "object", "description": "the programme document"}
    )
    adjust = op(
        "Adjust a balance with a reason (capped, idempotent)",
        "admin",
        *writes,
        body=True,
        auth=True,
        idempotent=True,
    )
    adjust["requestBody"] = _body(
        ["points", "reason"],
        points={"type": "integer", "description": "credit (> 0) or debit (< 0), not 0"},
        reason=REASON,
    )
    reverse = op(
        "Reverse one entry with a reason (once; order points: refund in the shop)",
        "admin",
        *writes,
        body=True,
        auth=True,
        idempotent=True,
    )
    reverse["requestBody"] = _body(["reason"], reason=REASON)
    return {
        f"{base}/customers": {"get": customers},
        f"{base}/cards/{{member_number}}": {
            "get": op(
                "A card with its latest ledger entries and proof of delivery (docs/messages.md)",
                "admin",
                401,
                403,
                404,
                auth=True,
                answer="CardView",
            )
        },
        f"{base}/cards/{{member_number}}/adjustments": {"post": adjust},
        f"{base}/cards/{{member_number}}/entries/{{entry_id}}/reversal": {"post": reverse},
        f"{base}/cards/{{member_number}}/resend-email": {
            "post": op("Send the card email again", "admin", *writes, body=True, auth=True)
        },
        f"{base}/metrics": {"get": metrics},
        f"{base}/settings": {
            "get": op("The programme document, secrets hidden", "admin", 401, 403, 404, auth=True),
            "put": settings_put,
        },
        "/admin/": {"get": dashboard},
        "/admin/login": {"post": _form("Sign in (form)", "to the dashboard", SIGN_IN_REFUSED)},
        "/admin/logout": {"post": _form("Sign out", "to sign-in")},
        "/admin/export.csv": {"get": export},
    }
