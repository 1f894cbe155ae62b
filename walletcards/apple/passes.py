"""A programme's pass factory: design + signer prepared once per programme version."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from threading import Lock

from sqlalchemy.orm import Session

from walletcards.apple.certificates import PassSigner, check_signer, load_signer
from walletcards.apple.pkpass import PassDesign, PassStyle
from walletcards.cardface import card_face
from walletcards.links import card_links
from walletcards.loyalty.config_tables import AppleTable
from walletcards.loyalty.models import Card, Program
from walletcards.loyalty.programs import program_config

log = logging.getLogger(__name__)


class AppleNotConfigured(LookupError):
    """The programme has no ``[apple]`` table: it issues no Apple passes."""


@dataclass(frozen=True)
class PassFactory:
    design: PassDesign
    signer: PassSigner


_factories: dict[tuple[str, str], PassFactory] = {}
_lock = Lock()


def apple_table(program: Program) -> AppleTable:
    table = program_config(program).apple
    if table is None:
        raise AppleNotConfigured(f"programme {program.slug!r} has no [apple] table")
    return table


def pass_type_identifier(program: Program) -> str | None:
    try:
        return apple_table(program).pass_type_identifier
    except AppleNotConfigured:
        return None


def factory_for(program: Program, public_url: str, now: datetime) -> PassFactory:
    """Load and check the certificate, prepare the design: once per programme version."""
    key = (program.config_hash, public_url)
    with _lock:
        found = _factories.get(key)
        if found is not None:
            return found
        table = apple_table(program)
        signer = load_signer(
            table.certificate, table.private_key, table.wwdr_certificate, table.password()
        )
        for warning in check_signer(signer, table.pass_type_identifier, table.team_identifier, now):
            log.warning("programme %s: %s", program.slug, warning)
        style = PassStyle(
            pass_type_identifier=table.pass_type_identifier,
            team_identifier=table.team_identifier,
            organization_name=program.name,
            web_service_url=f"{public_url}/passkit/",
            **{key: colour.wallet for key, colour in table.colours.items()},
            locations=table.locations,
            max_distance=table.max_distance,
        )
        images = Path(table.images_dir) if table.images_dir else None
        languages = program_config(program).languages
        built = PassFactory(PassDesign(style, images, languages), signer)
        _factories[key] = built
        return built


def render_pass(
    session: Session, program: Program, card: Card, public_url: str, secret_key: str, now: datetime
) -> list[bytes]:
    """The card's current .pkpass, as chunks to send: face from the ledger, pass.json,
    manifest, signature (the images' part is shared across passes, never copied)."""
    factory = factory_for(program, public_url, now)
    face = card_face(session, program, card, now, secret_key)
    url = str(card_links(public_url, card.public_token, False)["url"])
    pass_json = factory.design.pass_json(face, card.serial, card.auth_token, url)
    return factory.design.build_chunks(pass_json, factory.signer)
