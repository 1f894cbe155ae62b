"""Checks a request body against Google's walletobjects v1 discovery document: unknown fields,
types, enums, required fields and the documented one-of rules. Our tests validate every body we
build with it, and the loopback fake Google answers 400 with it, as Google would."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

REQUIRED = {
    "LoyaltyObject": ("id", "classId", "state"),
    "LoyaltyClass": ("id", "issuerName", "programName", "reviewStatus"),
    "LoyaltyPoints": ("balance",),
    "Uri": ("uri",),
    "ImageUri": ("uri",),
}
EXACTLY_ONE = {
    "LoyaltyPointsBalance": ("int", "string", "double", "money"),
    "Image": ("sourceUri", "privateImageId"),
}


@lru_cache(maxsize=4)
def load(path: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(Path(path).read_text())
    return document


def validate(schemas: dict[str, Any], name: str, value: Any, where: str = "") -> list[str]:
    """Problems with ``value`` as an instance of schema ``name`` (empty: valid)."""
    schema = schemas[name]
    if not isinstance(value, dict):
        return [f"{where or name}: expected an object"]
    problems = []
    properties = schema.get("properties", {})
    for key, item in value.items():
        if key not in properties:
            problems.append(f"{where}{key}: unknown field of {name}")
            continue
        problems += _check(schemas, properties[key], item, f"{where}{key}")
    for key in REQUIRED.get(name, ()):
        if key not in value:
            problems.append(f"{where}{key}: required by {name}")
    if name in EXACTLY_ONE:
        present = [k for k in EXACTLY_ONE[name] if k in value]
        if len(present) != 1:
            problems.append(f"{where or name}: exactly one of {', '.join(EXACTLY_ONE[name])}")
    return problems


def _check(schemas: dict[str, Any], spec: dict[str, Any], value: Any, where: str) -> list[str]:
    if "$ref" in spec:
        return validate(schemas, spec["$ref"], value, where + ".")
    kind = spec.get("type")
    if kind == "string":
        if spec.get("format") == "int64" and isinstance(value, int) and not isinstance(value, bool):
            return []
        if not isinstance(value, str):
            return [f"{where}: expected a string"]
        if "enum" in spec and value not in spec["enum"]:
            return [f"{where}: {value!r} is not one of {spec['enum']}"]
        return []
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where}: expected an integer"]
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{where}: expected a number"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: expected true or false"]
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: expected an array"]
        problems = []
        for index, item in enumerate(value):
            problems += _check(schemas, spec["items"], item, f"{where}[{index}]")
        return problems
    if kind == "object":
        return [] if isinstance(value, dict) else [f"{where}: expected an object"]
    return []
