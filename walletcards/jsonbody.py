"""Reading a request body as one JSON object without ever raising past the caller.

``json.loads`` raises RecursionError (not a ValueError) on deeply nested input such as a
megabyte of ``[``; Flask's ``get_json(silent=True)`` lets that through as a 500.
"""

from __future__ import annotations

import json
from typing import Any


def json_object(raw: bytes) -> dict[str, Any] | None:
    """The body's JSON object, or None for anything else (bad UTF-8, bad JSON, too deep)."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
