"""LoyaltyClass and LoyaltyObject bodies, translated from the card face (walletobjects v1).

Ids are ``<issuerId>.<suffix>`` with only letters, digits, '.', '_' and '-'. The class carries
the colour (``hexBackgroundColor`` belongs to the class, not the object); the object carries
the balance (``loyaltyPoints.balance`` holds exactly one of int/string/double/money).
"""

from __future__ import annotations

import re
from typing import Any

from walletcards.cardface import CardFace
from walletcards.codes import totp_key

ID_SUFFIX = re.compile(r"[^A-Za-z0-9._-]")


def class_id(issuer_id: str, program_slug: str) -> str:
    return f"{issuer_id}.{ID_SUFFIX.sub('_', program_slug)}"


def object_id(issuer_id: str, serial: str) -> str:
    return f"{issuer_id}.{ID_SUFFIX.sub('_', serial)}"


def loyalty_class(
    issuer_id: str,
    program_slug: str,
    program_name: str,
    logo_url: str,
    background: str,
    tier_label: str,
) -> dict[str, Any]:
    return {
        "id": class_id(issuer_id, program_slug),
        "issuerName": program_name,
        "programName": program_name,
        "programLogo": {
            "sourceUri": {"uri": logo_url},
            "contentDescription": {
                "defaultValue": {"language": "en-US", "value": f"{program_name} logo"}
            },
        },
        "hexBackgroundColor": background,
        "rewardsTierLabel": tier_label,
        "reviewStatus": "UNDER_REVIEW",
    }


def totp_secret(qr_secret: str) -> bytes:
    """The card's TOTP key for a rotating barcode, derived from its own QR secret (the till
    checks codes with the same key: walletcards.codes.totp_matches)."""
    return totp_key(qr_secret)


def rotating_barcode(face: CardFace, qr_secret: str) -> dict[str, Any]:
    """A QR code that changes every 30 s (TOTP, RFC 6238, 8 digits): a screenshot stops
    working within a minute. Its key only ever travels in REST bodies, never in a save JWT."""
    return {
        "type": "QR_CODE",
        "valuePattern": f"{face.member_number}-T{{totp_value_0}}",
        "alternateText": face.member_number,
        "totpDetails": {
            "periodMillis": "30000",
            "algorithm": "TOTP_SHA1",
            "parameters": [{"key": totp_secret(qr_secret).hex(), "valueLength": 8}],
        },
    }


def loyalty_object(
    issuer_id: str,
    program_slug: str,
    serial: str,
    face: CardFace,
    card_url: str,
    rotating_secret: str | None = None,
) -> dict[str, Any]:
    modules = [
        {"id": "tier", "header": face.label("label.tier"), "body": face.tier or face.label("none")}
    ]
    for key, text in (
        ("value", face.worth),
        ("next_tier", face.next_tier),
        ("reward", face.reward_progress),
        ("expiring", face.expiring),
    ):
        if text:
            label = {
                "value": "label.value",
                "next_tier": "label.next_tier",
                "reward": "label.reward",
                "expiring": "label.expiring",
            }[key]
            modules.append({"id": key, "header": face.label(label), "body": text})
    body: dict[str, Any] = {
        "id": object_id(issuer_id, serial),
        "classId": class_id(issuer_id, program_slug),
        "state": "ACTIVE",
        "accountId": face.member_number,
        "accountName": face.customer_name or face.member_number,
        "loyaltyPoints": {"label": face.label("label.points"), "balance": {"int": face.available}},
        "secondaryLoyaltyPoints": {
            "label": face.label("label.pending"),
            "balance": {"int": face.pending},
        },
        "barcode": {"type": "QR_CODE", "value": face.code, "alternateText": face.member_number},
        "textModulesData": modules,
        "linksModuleData": {
            "uris": [
                {"uri": card_url, "description": face.label("label.card_page"), "id": "card_page"}
            ]
        },
    }
    if rotating_secret is not None:
        del body["barcode"]
        body["rotatingBarcode"] = rotating_barcode(face, rotating_secret)
    return body
