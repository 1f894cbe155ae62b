"""Reading a request body as one JSON object without ever raising past the caller.

``json.loads`` raises RecursionError (not a ValueError) on deeply nested input such as a
megabyte of ``[``; Flask's ``get_json(silent=True)`` lets that through as a 500. A number of
more than 4300 digits raises a plain ValueError (Python's int limit), not a JSONDecodeError.
"""

from __future__ import annotations

import json
from typing import Any


def json_object(raw: bytes) -> dict[str, Any] | None:
    """The body's JSON object, or None for anything else (bad UTF-8, bad JSON, too deep)."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # ValueError: also a number of over 4300 digits
        return None
    return data if isinstance(data, dict) else None
