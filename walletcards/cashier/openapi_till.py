"""The till's pages and API in the OpenAPI document (walletcards/openapi.py holds the rest),
and the till's answer schema the owner's card view shares."""

from __future__ import annotations

from typing import Any

from walletcards.openapi import SIGN_IN_REFUSED, op, page


def till_paths() -> dict[str, dict[str, Any]]:
    return {
        "/cashier/": {"get": page("The till page", "till")},
        "/cashier/login": {
            "post": {
                "summary": "Sign in (form)",
                "tags": ["till"],
                "responses": {"303": {"description": "to the till"}, **SIGN_IN_REFUSED},
            }
        },
        "/cashier/logout": {
            "post": {
                "summary": "Sign out",
                "tags": ["till"],
                "responses": {"303": {"description": "to sign-in"}},
            }
        },
        "/api/v1/cashier/scan": {
            "post": op(
                "Find a card by code, number, phone or email",
                "till",
                400,
                401,
                403,
                404,
                413,
                422,
                body=True,
                auth=True,
                answer="TillAnswer",
            )
        },
        "/api/v1/cashier/quote": {
            "post": op(
                "The price at the card's tier discount and the points paying it earns (a read)",
                "till",
                400,
                401,
                403,
                404,
                413,
                422,
                body=True,
                auth=True,
                answer="TillAnswer",
            )
        },
        "/api/v1/cashier/earn": {
            "post": op(
                "Record a purchase (a receipt number earns once per programme; amount: what was"
                " paid, discount: the tier discount given)",
                "till",
                400,
                401,
                403,
                404,
                409,
                413,
                422,
                body=True,
                auth=True,
                idempotent=True,
                answer="TillAnswer",
            )
        },
        "/api/v1/cashier/redeem": {
            "post": op(
                "Redeem points (needs the card's QR or rotating code, or a manager)",
                "till",
                400,
                401,
                403,
                404,
                409,
                413,
                422,
                body=True,
                auth=True,
                idempotent=True,
                answer="TillAnswer",
            )
        },
    }


def answer_schemas() -> dict[str, Any]:
    """The till's answer (also the owner's card view): balance, what it is worth, the card."""
    text = {"type": "string", "nullable": True}
    money = {
        "type": "object",
        "description": "An amount of money: a decimal string with the currency's own decimals",
        "required": ["amount", "currency"],
        "properties": {
            "amount": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$", "example": "6.50"},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "example": "USD"},
        },
    }
    nullable_money = {"allOf": [{"$ref": "#/components/schemas/Money"}], "nullable": True}
    count = {"type": "integer", "minimum": 0}
    till = {
        "type": "object",
        "required": ["customer", "tier", "balance", "value", "expiring", "next_tier"],
        "properties": {
            "customer": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "member_number": {"type": "string"}},
            },
            "tier": text,
            "balance": {
                "type": "object",
                "required": ["available", "pending"],
                "properties": {"available": count, "pending": count},
            },
            "value": {
                **nullable_money,
                "description": "what the available points are worth at [redemption] "
                "point_value, rounded down to the currency's minor unit; null when the "
                "programme sets no point_value",
            },
            "expiring": text,
            "next_tier": text,
            "reward_progress": text,
            "earned": {**count, "description": "earn: points this purchase earned"},
            "redeemed": {**count, "description": "redeem: points redeemed"},
            "redeemed_value": {
                **nullable_money,
                "description": "redeem: what the redeemed points are worth (rounded down); "
                "null without a point_value",
            },
            "recorded_by": {"type": "string", "description": "earn, redeem: the staff member"},
            "discount": {
                "type": "object",
                "nullable": True,
                "description": "quote, earn: the tier discount (percent, amount as decimal "
                "strings in the programme's currency); null when none applies",
                "properties": {"percent": {"type": "string"}, "amount": {"type": "string"}},
            },
            "to_pay": {"type": "string", "description": "quote: the price to charge"},
            "points": {**count, "description": "quote: base points paying to_pay earns"},
        },
    }
    entries = {"type": "array", "items": {"type": "object"}, "description": "latest first"}
    card = {
        "allOf": [
            {"$ref": "#/components/schemas/TillAnswer"},
            {"type": "object", "required": ["entries"], "properties": {"entries": entries}},
        ]
    }
    return {"Money": money, "TillAnswer": till, "CardView": card}
