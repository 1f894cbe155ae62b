"""Every admin request's input, checked before its view runs (a ``before_request`` of the admin
blueprints), so that what no column can hold is a clear 4xx and never a database error:

- NUL characters anywhere (path, query, headers, form, JSON keys and strings): PostgreSQL's
  text types refuse them (psycopg raises DataError), SQLite would store them silently;
- unpaired surrogates in JSON strings (``"\\ud800"`` is valid JSON but not UTF-8);
- JSON numbers outside a BIGINT (the ledger's columns) or not finite (``1e999``, ``NaN``);
- JSON nested deeper than any admin body needs (the settings document is 4 levels deep).
"""

from __future__ import annotations

import math
from typing import Any

from flask import request

from walletcards.errors import ApiError
from walletcards.web import json_object

BIGINT = 2**63  # PostgreSQL BIGINT: -2**63 .. 2**63 - 1
MAX_DEPTH = 16
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def check_request() -> None:
    """Raises ApiError (400 for headers, 422 for the rest) naming where the bad input is."""
    for name, value in request.headers.items():
        if not _storable(value):
            raise ApiError(400, "invalid_header", f"{name[:40]}: contains a NUL character")
    _text("path", request.path)
    for key, value in request.args.items(multi=True):
        _text(f"query {key[:40]!r}", key)
        _text(f"query {key[:40]!r}", value)
    if request.mimetype in FORMS:
        for key, value in request.form.items(multi=True):
            _text(f"form {key[:40]!r}", key)
            _text(f"form {key[:40]!r}", value)
    else:
        body = json_object(request.get_data())  # cached: the view reads the same bytes
        if body is not None:
            check_json(body)


def check_json(document: Any) -> None:
    """Walks a parsed JSON document without recursion (its depth is the attacker's)."""
    stack: list[tuple[str, Any, int]] = [("body", document, 0)]
    while stack:
        where, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ApiError(422, "too_deep", f"{where}: nested more than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                _text(where, key)
                stack.append((f"{where}.{key[:40]}", item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item, depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str):
            _text(where, value)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int) and not -BIGINT <= value < BIGINT:
            raise ApiError(422, "invalid_number", f"{where}: a whole number beyond ±2^63")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ApiError(422, "invalid_number", f"{where}: not a finite number")


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate
        return False
    return True


def _text(where: str, text: str) -> None:
    if not _storable(text):
        raise ApiError(
            422, "invalid_text", f"{where}: contains a NUL character or an unpaired surrogate"
        )
