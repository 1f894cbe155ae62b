"""LoyaltyClass and LoyaltyObject bodies, translated from the card face (walletobjects v1).

Ids are ``<issuerId>.<suffix>`` with only letters, digits, '.', '_' and '-'. The class carries
the colour (``hexBackgroundColor`` belongs to the class, not the object); the object carries
the balance (``loyaltyPoints.balance`` holds exactly one of int/string/double/money).

Labels and names carry every language the programme offers as a ``LocalizedString``
(``defaultValue`` + ``translatedValues``, BCP 47 tags): Google shows the one matching the
phone's language, like Apple's ``.lproj``. Values stay in the customer's language.
"""

from __future__ import annotations

import re
from typing import Any

from walletcards import texts
from walletcards.cardface import CardFace
from walletcards.codes import totp_key
from walletcards.links import referral_url

ID_SUFFIX = re.compile(r"[^A-Za-z0-9._-]")
GOOGLE_LANGUAGE = {"en": "en", "ru": "ru", "zh": "zh-CN"}  # Google's tags for our languages


def class_id(issuer_id: str, program_slug: str) -> str:
    return f"{issuer_id}.{ID_SUFFIX.sub('_', program_slug)}"


def object_id(issuer_id: str, serial: str) -> str:
    return f"{issuer_id}.{ID_SUFFIX.sub('_', serial)}"


def localized(values: dict[str, str], default: str) -> dict[str, Any]:
    """A LocalizedString: ``values`` by our language code, ``default``'s as the default."""
    found: dict[str, Any] = {
        "defaultValue": {"language": GOOGLE_LANGUAGE[default], "value": values[default]}
    }
    others = [
        {"language": GOOGLE_LANGUAGE[lang], "value": value}
        for lang, value in values.items()
        if lang != default
    ]
    if others:
        found["translatedValues"] = others
    return found


def _label(key: str, languages: tuple[str, ...], default: str) -> dict[str, Any]:
    return localized({lang: texts.labels(lang)[key] for lang in languages}, default)


def loyalty_class(
    issuer_id: str,
    program_slug: str,
    names: dict[str, str],
    default: str,
    logo_url: str,
    background: str,
) -> dict[str, Any]:
    """``names``: the programme's name in every language it offers; ``default`` its default."""
    languages = tuple(names)
    name = localized(names, default)
    logo = {lang: texts.logo_description(lang, names[lang]) for lang in languages}
    return {
        "id": class_id(issuer_id, program_slug),
        "issuerName": names[default],
        "localizedIssuerName": name,
        "programName": names[default],
        "localizedProgramName": name,
        "programLogo": {
            "sourceUri": {"uri": logo_url},
            "contentDescription": localized(logo, default),
        },
        "hexBackgroundColor": background,
        "rewardsTierLabel": texts.labels(default)["label.tier"],
        "localizedRewardsTierLabel": _label("label.tier", languages, default),
        "accountIdLabel": texts.labels(default)["label.member"],
        "localizedAccountIdLabel": _label("label.member", languages, default),
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
    def label(key: str) -> dict[str, Any]:
        return _label(key, face.languages, face.locale)

    modules = []
    for key, text in (
        ("tier", face.tier_line),
        ("value", face.worth),
        ("next_tier", face.next_tier),
        ("reward", face.reward_progress),
        ("expiring", face.expiring),
        ("codes", "\n".join(face.codes)),  # open online-redemption codes
        ("campaigns", "\n".join(face.campaigns)),  # the running campaigns
        ("referral", face.referral and referral_url(card_url, face.referral)),
        ("how_to_earn", face.about.how_to_earn),  # the programme's [card] texts
        ("terms", face.about.terms),
        ("contact", face.about.contact),
    ):
        if text:
            name = f"label.{key}"
            modules.append(
                {
                    "id": key,
                    "header": face.label(name),
                    "localizedHeader": label(name),
                    "body": text,
                }
            )
    body: dict[str, Any] = {
        "id": object_id(issuer_id, serial),
        "classId": class_id(issuer_id, program_slug),
        "state": "INACTIVE" if face.voided else "ACTIVE",  # voided: the data was erased
        "accountId": face.member_number,
        "accountName": face.customer_name or face.member_number,
        "loyaltyPoints": {
            "label": face.label("label.points"),
            "localizedLabel": label("label.points"),
            "balance": {"int": face.available},
        },
        "secondaryLoyaltyPoints": {
            "label": face.label("label.pending"),
            "localizedLabel": label("label.pending"),
            "balance": {"int": face.pending},
        },
        "barcode": {"type": "QR_CODE", "value": face.code, "alternateText": face.member_number},
        "textModulesData": modules,
        "linksModuleData": {
            "uris": [
                {
                    "uri": card_url,
                    "description": face.label("label.card_page"),
                    "localizedDescription": label("label.card_page"),
                    "id": "card_page",
                }
            ]
        },
    }
    if face.about.website:  # [card] website
        website = {
            "uri": face.about.website,
            "description": face.label("label.website"),
            "localizedDescription": label("label.website"),
            "id": "website",
        }
        body["linksModuleData"]["uris"].append(website)
    if rotating_secret is not None:
        del body["barcode"]
        body["rotatingBarcode"] = rotating_barcode(face, rotating_secret)
    return body
