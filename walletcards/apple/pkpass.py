"""Build and sign a storeCard .pkpass from a card face.

pass.json is built with wallet-py3k's pass model, extended with what it lacks today: the
``barcodes`` array (``barcode`` is deprecated), ``changeMessage`` only where set, and
``rgb(r, g, b)`` colours. Signing happens in-process (``signature.py``); wallet-py3k's own
signer spawns openssl with the key password in argv and is kept only as a benchmark baseline.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wallet.models import Barcode, BarcodeFormat, Field, Pass, PassHandler, StoreCard

from walletcards import texts
from walletcards.apple.certificates import PassSigner
from walletcards.apple.package import Archive, Entry
from walletcards.apple.signature import sign_manifest
from walletcards.cardface import CardFace
from walletcards.links import referral_url
from walletcards.loyalty.config_card import Location

DEFAULT_IMAGES = Path(__file__).parent / "images"
IMAGE_NAMES = tuple(
    f"{name}{suffix}.png" for name in ("icon", "logo", "strip") for suffix in ("", "@2x", "@3x")
)
LPROJ = {"en": "en", "ru": "ru", "zh": "zh-Hans"}  # our language -> Apple's .lproj folder
MEDIA_TYPE = "application/vnd.apple.pkpass"
FRONT_FIELDS = 4  # storeCard: secondary + auxiliary fields together


def _strings(lang: str) -> bytes:
    """``<lang>.lproj/pass.strings``: the field labels (Wallet shows the device language's);
    UTF-16 with BOM, the encoding Wallet reads reliably (UTF-8 strings files were seen to show
    as empty, pass-js issue 511). Values and change messages are written into pass.json in the
    customer's language: a strings file cannot choose a plural form for the value."""
    lines = []
    for key, value in texts.labels(lang).items():
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'"{key}" = "{escaped}";')
    return b"\xff\xfe" + ("\n".join(lines) + "\n").encode("utf-16-le")


@dataclass(frozen=True)
class PassStyle:
    """Per-programme constants of every pass (from the ``[apple]`` table)."""

    pass_type_identifier: str
    team_identifier: str
    organization_name: str
    web_service_url: str  # <WALLETCARDS_PUBLIC_URL>/passkit/
    background_color: str = "rgb(44, 62, 80)"
    foreground_color: str = "rgb(253, 246, 236)"
    label_color: str = "rgb(230, 126, 34)"
    locations: tuple[Location, ...] = ()  # [apple] locations: the lock screen offers the pass
    max_distance: int | None = None  # metres


class PassDesign:
    """The static part of a programme's passes (images, strings, their hashes and ZIP entries),
    prepared once per design; per pass only pass.json, manifest and signature are new."""

    def __init__(
        self,
        style: PassStyle,
        images_dir: Path | None = None,
        languages: tuple[str, ...] = tuple(LPROJ),
    ) -> None:
        """``languages``: those the programme offers; each gets its ``.lproj``, English always
        (the fallback for a device in a language the pass lacks)."""
        self.style = style
        folder = images_dir or DEFAULT_IMAGES
        files: dict[str, bytes] = {}
        for name in IMAGE_NAMES:
            path = folder / name
            if not path.exists():
                path = DEFAULT_IMAGES / name  # a partial custom set falls back per file
            files[name] = path.read_bytes()
        for lang in sorted({"en", *languages}):
            files[f"{LPROJ[lang]}.lproj/pass.strings"] = _strings(lang)
        self.hashes = {name: hashlib.sha1(data).hexdigest() for name, data in files.items()}  # noqa: S324  (Apple's manifest format)
        self.archive = Archive([Entry.of(name, data) for name, data in files.items()])
        self.files = files

    def pass_json(self, face: CardFace, serial: str, auth_token: str, card_url: str) -> bytes:
        style = self.style
        info = StoreCard()
        info.headerFields.append(_field("tier", face.tier_line, "label.tier", face.change_tier))
        info.primaryFields.append(
            _field("points", face.available, "label.points", face.change_points)
        )
        info.secondaryFields.append(_field("pending", face.pending, "label.pending"))
        if face.reward_progress:
            info.secondaryFields.append(_field("reward", face.reward_progress, "label.reward"))
        if face.value:
            info.auxiliaryFields.append(_field("value", face.value, "label.value"))
        info.auxiliaryFields.append(
            _field("expiring", face.expiring or face.label("none"), "label.expiring", "%@")
        )
        # A storeCard shows at most 4 secondary + auxiliary fields (FACTS.md); when all five
        # apply, the member number goes to the back (the barcode's altText shows it anyway).
        member = _field("member", face.member_number, "label.member")
        if len(info.secondaryFields) + len(info.auxiliaryFields) < FRONT_FIELDS:
            info.auxiliaryFields.append(member)
        else:
            info.backFields.append(member)
        if face.next_tier:
            info.backFields.append(_field("next_tier", face.next_tier, "label.next_tier"))
        if face.campaigns:  # the running campaigns ("Double points until Mar 8")
            info.backFields.append(
                _field("campaigns", "\n".join(face.campaigns), "label.campaigns", "%@")
            )
        if face.codes:  # open online-redemption codes, with their value and expiry
            info.backFields.append(_field("codes", "\n".join(face.codes), "label.codes"))
        info.backFields.append(_field("card_page", card_url, "label.card_page"))
        if face.referral:  # the member's referral link (docs/referrals.md)
            link = referral_url(card_url, face.referral)
            info.backFields.append(_field("referral", link, "label.referral"))
        about = face.about  # the programme's [card] texts; the website's URL is tappable
        for key in ("how_to_earn", "terms", "contact", "website"):
            if text := getattr(about, key):
                info.backFields.append(_field(key, text, f"label.{key}"))
        if face.message:  # the owner's message, on top; "%@": the lock screen shows it
            news = [_field("message", face.message, "label.message", "%@")]
            if face.message_link:
                news.append(_field("message_link", face.message_link, "label.message_link"))
            info.backFields[0:0] = news
        model = Pass(
            info,
            passTypeIdentifier=style.pass_type_identifier,
            organizationName=style.organization_name,
            teamIdentifier=style.team_identifier,
        )
        model.serialNumber = serial
        model.description = face.description
        model.logoText = face.program_name
        model.backgroundColor = style.background_color
        model.foregroundColor = style.foreground_color
        model.labelColor = style.label_color
        model.webServiceURL = style.web_service_url
        model.authenticationToken = auth_token
        document: dict[str, Any] = model.json_dict()
        barcode = Barcode(face.code, BarcodeFormat.QR, altText=face.member_number)
        document["barcodes"] = [barcode]  # the array; never the deprecated "barcode" key
        if style.locations:
            document["locations"] = [_location(place) for place in style.locations]
        if style.max_distance is not None:
            document["maxDistance"] = style.max_distance
        if face.voided:  # the customer's data was erased (walletcards/rights/erasure.py)
            document["voided"] = True
        return json.dumps(
            document, default=PassHandler, ensure_ascii=False, separators=(",", ":")
        ).encode()

    def build(self, pass_json: bytes, signer: PassSigner) -> bytes:
        return b"".join(self.build_chunks(pass_json, signer))

    def build_chunks(self, pass_json: bytes, signer: PassSigner) -> list[bytes]:
        """The .pkpass as chunks (the shared static part is not copied per pass)."""
        manifest_map = {**self.hashes, "pass.json": hashlib.sha1(pass_json).hexdigest()}  # noqa: S324
        manifest = json.dumps(manifest_map, separators=(",", ":")).encode()
        signature = sign_manifest(manifest, signer)
        return self.archive.with_entries(
            [
                Entry.of("pass.json", pass_json),
                Entry.of("manifest.json", manifest),
                Entry.of("signature", signature),
            ]
        )


def _field(key: str, value: object, label: str, change: str | None = None) -> Field:
    """A field with a localised label key; ``changeMessage`` only where a change should show
    on the lock screen (without it updates arrive silently; with '' Wallet may misbehave)."""
    field = Field(key, value, label)
    del field.changeMessage
    if change:
        field.changeMessage = change
    return field


def _location(place: Location) -> dict[str, Any]:
    found: dict[str, Any] = {"latitude": place.latitude, "longitude": place.longitude}
    if place.relevant_text:
        found["relevantText"] = place.relevant_text
    return found
