"""The OpenAPI document's part for joining: the sign-up page, its confirmation link, the
counter poster and its QR code, the referral link (HTML pages and an image, not JSON)."""

from __future__ import annotations

from typing import Any

from walletcards.openapi import page


def join_paths() -> dict[str, dict[str, Any]]:
    html: dict[str, Any] = {"content": {"text/html": {}}}
    sign_up = {
        "summary": "Join: the form posted (name, email and/or phone, terms, marketing consent)",
        "tags": ["join"],
        "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
            "type": "object", "required": ["form", "terms"],
            "properties": {name: {"type": "string"} for name in (
                "form", "name", "email", "phone", "birthday", "language", "terms",
                "marketing", "website", "staff", "ref")}}}}},
        "responses": {
            "200": {"description": "check your email (always the same answer)", **html},
            "303": {"description": "to the new card (email confirmation off)"},
            **{str(code): {"description": why, **html} for code, why in (
                (400, "a field is missing or invalid: the form again"),
                (403, "form token missing or expired"),
                (404, "the programme has no sign-up page"),
                (429, "too many sign-ups from this address; Retry-After"))},
        },
    }  # fmt: skip
    confirm = page("Confirm a sign-up: to the card (410 expired, 404 unknown)", "join")
    return {
        "/join/{slug}": {"get": page("The sign-up page", "join"), "post": sign_up},
        "/join/{slug}/confirm/{token}": {"get": confirm},
        "/join/{slug}/poster": {"get": page("The printable counter poster", "join")},
        "/r/{code}": {
            "get": page(
                "A member's referral link: 302 to the sign-up page or the shop with ?ref= "
                "(404 unknown); docs/referrals.md",
                "join",
            )
        },
        "/join/{slug}/qr.svg": {
            "get": page("The QR code of the sign-up page", "join", "image/svg+xml")
        },
    }
