"""The "Add to Google Wallet" link: a skinny save JWT that only names objects inserted through
REST first, so links stay far below the ~1,800 characters a URL survives, and re-saving never
tries to update an object through the JWT (it does not: objects are PATCHed)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from google.auth import crypt, jwt

SAVE_URL = "https://pay.google.com/gp/v/save/"


def save_link(
    service_account_info: dict[str, Any], object_id: str, public_url: str, issued_at: int
) -> str:
    signer = crypt.RSASigner.from_service_account_info(service_account_info)
    origin = urlsplit(public_url)
    claims = {
        "iss": service_account_info["client_email"],
        "aud": "google",
        "typ": "savetowallet",
        "iat": issued_at,
        "origins": [f"{origin.scheme}://{origin.netloc}"],
        "payload": {"loyaltyObjects": [{"id": object_id}]},
    }
    token = jwt.encode(signer, claims).decode()
    return SAVE_URL + token
