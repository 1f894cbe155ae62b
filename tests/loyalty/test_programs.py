"""A programme's stored document parsed once per version and process, whatever row it is read
from; a document changed without its hash is never answered from the cache."""

from __future__ import annotations

import copy

from tests.kit.programs import demo_document
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import document_hash, program_config


def row(document: dict[str, object], digest: str) -> Program:
    """A programme row as a new session loads it: its own copy of the stored document."""
    return Program(slug="demo", config=copy.deepcopy(document), config_hash=digest)


def test_rows_loaded_anew_with_one_version_share_one_parsed_programme() -> None:
    document = demo_document(name="Cached once")
    digest = document_hash(document)
    first, second = program_config(row(document, digest)), program_config(row(document, digest))
    assert first is second and first.name == "Cached once"


def test_a_document_changed_without_its_hash_is_parsed_anew() -> None:
    document = demo_document(name="Before")
    digest = document_hash(document)
    assert program_config(row(document, digest)).name == "Before"
    changed = {**document, "name": "After"}
    assert program_config(row(changed, digest)).name == "After"
    assert program_config(row(document, digest)).name == "Before"


def test_a_row_edited_in_place_is_read_again() -> None:
    document = demo_document(name="Edited")
    program = row(document, document_hash(document))
    assert program_config(program).name == "Edited"
    program.config = {**document, "name": "Edited again"}
    assert program_config(program).name == "Edited again"
