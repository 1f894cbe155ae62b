"""Programmes as code: apply a validated programme file idempotently; rules parsed once per hash."""

from __future__ import annotations

import hashlib
import json
import weakref
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from walletcards.loyalty.config import ProgramConfig, parse_program
from walletcards.loyalty.config_rules import ProgramRules
from walletcards.loyalty.config_tables import reveal
from walletcards.loyalty.config_webhooks import SHOP_PINS
from walletcards.loyalty.models import Card, Program


class UnknownProgram(LookupError):
    code = "unknown_program"
    status = 404


def document_hash(document: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def apply_program(
    session: Session, config: ProgramConfig, now: datetime
) -> tuple[Program, Literal["created", "updated", "unchanged"]]:
    """Create or update the programme named by ``config.slug``; unchanged files write nothing."""
    digest = document_hash(config.document)
    program = session.execute(
        select(Program).where(Program.slug == config.slug).with_for_update()
    ).scalar_one_or_none()
    if program is None:
        program = Program(
            slug=config.slug,
            name=config.name,
            currency=config.currency,
            config=config.document,
            config_hash=digest,
            created_at=now,
            updated_at=now,
        )
        session.add(program)
        session.flush()
        return program, "created"
    if program.config_hash == digest:
        return program, "unchanged"
    if program.currency != config.currency:
        raise ValueError(
            f"currency: programme {config.slug!r} already uses {program.currency}; "
            "changing the currency of a running programme would corrupt its amounts"
        )
    tiers = config.rules.tiers
    if (
        tiers is not None
        and tiers.window is not None
        and program.config.get("tiers") != (config.document.get("tiers"))
    ):
        # other windows or levels: the scheduled job reviews every card's tier once
        session.execute(
            update(Card).where(Card.program_id == program.id).values(tier_review_at=now)
        )
    program.name = config.name
    program.config = config.document
    program.config_hash = digest
    program.updated_at = now
    return program, "updated"


@lru_cache(maxsize=256)
def _parsed(config_hash: str, document_json: str) -> ProgramConfig:
    return parse_program(json.loads(document_json), stored=True)


# per loaded row: (hash, document object, parsed) it was last read as; a row read again (another
# session, a refresh) or given another document is checked against the per-process cache anew
_READ: weakref.WeakKeyDictionary[Program, tuple[str, Any, ProgramConfig]] = (
    weakref.WeakKeyDictionary()
)
# per version: a private copy of its document and the parsed programme. A row loaded anew (each
# pass GET, each webhook) with an equal document skips the sorted re-serialisation (~45 µs);
# equality, not the hash alone, decides, so a document changed without its hash is parsed anew.
_BY_HASH: dict[str, tuple[Any, ProgramConfig]] = {}
_BY_HASH_MAX = 256


def program_config(program: Program) -> ProgramConfig:
    """The stored document, parsed (cached by its hash: parse cost paid once per version;
    the document is serialised once per version and process, not at every call)."""
    digest, document = program.config_hash, program.config
    seen = _READ.get(program)
    if seen is not None and seen[0] == digest and seen[1] is document:
        return seen[2]
    known = _BY_HASH.get(digest)
    if known is not None and known[0] == document:
        parsed = known[1]
    else:
        document_json = json.dumps(document, sort_keys=True)
        parsed = _parsed(digest, document_json)
        if len(_BY_HASH) >= _BY_HASH_MAX:
            _BY_HASH.clear()
        _BY_HASH[digest] = (json.loads(document_json), parsed)
    _READ[program] = (digest, document, parsed)
    return parsed


def program_rules(program: Program) -> ProgramRules:
    return program_config(program).rules


def get_program(session: Session, slug: str) -> Program:
    program = session.execute(select(Program).where(Program.slug == slug)).scalar_one_or_none()
    if program is None:
        raise UnknownProgram(f"no programme {slug!r}")
    return program


SIGN_IN_CHOICES = 200  # more programmes than this: the sign-in form asks for the slug


def program_choices(session: Session) -> list[tuple[str, str]] | None:
    """(slug, name) of every programme by name, for the staff sign-in list; None when there
    are more than ``SIGN_IN_CHOICES`` (a list that long helps nobody)."""
    rows = session.execute(
        select(Program.slug, Program.name)
        .order_by(Program.name, Program.slug)
        .limit(SIGN_IN_CHOICES + 1)
    ).all()
    return None if len(rows) > SIGN_IN_CHOICES else [(slug, name) for slug, name in rows]


def unset_webhook_variables(program: Program, source: str) -> list[str]:
    """The environment variables ``source``'s secrets name that are not set on this server."""
    table = program_config(program).webhooks.source(source)
    found = (s.unset_variable() for s in (table.secret, table.previous_secret) if s)
    return [variable for variable in found if variable]


def webhook_secrets(program: Program, source: str) -> list[str]:
    """The secrets that may sign ``source``'s webhooks: current first, then the previous one
    (accepted during a rotation; Shopify may sign with the old secret for up to an hour)."""
    table = program_config(program).webhooks.source(source)
    found = (reveal(secret) for secret in (table.secret, table.previous_secret))
    return [secret for secret in found if secret]


def webhook_shop(program: Program, source: str) -> str | None:
    """The shop ``source``'s deliveries must name (canonical form, see config_webhooks), or
    None: our own signed format names no shop; a Shopify or WooCommerce source of a document
    stored before pins existed has none and refuses deliveries until one is applied."""
    if source not in SHOP_PINS:
        return None
    return program_config(program).webhooks.source(source).shop


def list_programs(session: Session) -> list[tuple[str, str, str]]:
    """(slug, name, currency) of every programme, by slug."""
    rows = session.execute(
        select(Program.slug, Program.name, Program.currency).order_by(Program.slug)
    ).all()
    return [(slug, name, currency) for slug, name, currency in rows]
