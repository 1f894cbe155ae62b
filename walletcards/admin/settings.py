"""Programme settings over the API: the same document as the TOML file, as JSON.

Literal secrets (webhook secrets, an events secret, the key password, the shops' admin
tokens and keys) are never sent out: they
read as ``HIDDEN``, and a document sent back with ``HIDDEN`` in the same place keeps the stored
value, so an owner can edit the earning rate without retyping every secret. ``env:NAME``
references are not secrets and are shown as they are.
"""

from __future__ import annotations

from typing import Any

HIDDEN = "<hidden>"
NAME_LENGTH = 200  # Program.name


def _is_secret(key: str) -> bool:
    return key.endswith(("secret", "password", "token")) or key == "consumer_key"


def masked(document: Any) -> Any:
    if isinstance(document, dict):
        return {
            key: HIDDEN
            if _is_secret(key) and isinstance(value, str) and not value.startswith("env:")
            else masked(value)
            for key, value in document.items()
        }
    if isinstance(document, list):
        return [masked(item) for item in document]
    return document


class SettingsError(ValueError):
    """A document the API refuses before validation; the message names the field."""


def unmasked(document: Any, stored: Any, where: str = "") -> Any:
    """``document`` with each ``HIDDEN`` replaced by the stored value at the same place."""
    if isinstance(document, dict):
        old = stored if isinstance(stored, dict) else {}
        return {
            key: unmasked(value, old.get(key), f"{where}.{key}" if where else key)
            for key, value in document.items()
        }
    if isinstance(document, list):
        old_items = stored if isinstance(stored, list) else []
        return [
            unmasked(item, old_items[i] if i < len(old_items) else None, f"{where}[{i}]")
            for i, item in enumerate(document)
        ]
    if document == HIDDEN:
        if not isinstance(stored, str):
            raise SettingsError(
                f"{where}: {HIDDEN} stands for a stored secret; none is stored here"
            )
        return stored
    return document


def check_columns(document: dict[str, Any]) -> None:
    """What the programme file's own validation leaves to the database's columns."""
    name = document.get("name")
    if isinstance(name, str) and len(name) > NAME_LENGTH:
        raise SettingsError(f"name: at most {NAME_LENGTH} characters")


def check_operator_fields(document: dict[str, Any], stored: dict[str, Any]) -> None:
    """[apple] names files on the server and ``env:`` references read the server's
    environment: both stay the operator's (``walletcards program apply``), not a manager's."""
    if document.get("apple") != stored.get("apple"):
        raise SettingsError("apple: changed only with `walletcards program apply`")
    known = set(_env_references(stored))
    for reference in _env_references(document):
        if reference not in known:
            raise SettingsError(f"{reference}: a new env: reference is the operator's to add")


def _env_references(document: Any) -> list[str]:
    if isinstance(document, dict):
        return [ref for value in document.values() for ref in _env_references(value)]
    if isinstance(document, list):
        return [ref for item in document for ref in _env_references(item)]
    return [document] if isinstance(document, str) and document.startswith("env:") else []
