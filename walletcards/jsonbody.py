"""Reading a request body as one JSON object without ever raising past the caller.

``json.loads`` raises RecursionError (not a ValueError) on deeply nested input such as a
megabyte of ``[``, and a plain ValueError (not a JSONDecodeError) on an integer of more than
``sys.get_int_max_str_digits()`` digits; Flask's ``get_json(silent=True)`` lets both through
as a 500.
"""

from __future__ import annotations

import json
from typing import Any


def json_object(raw: bytes) -> dict[str, Any] | None:
    """The body's JSON object, or None for anything else (bad UTF-8, bad JSON, too deep, an
    integer too long to convert)."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError included
        return None
    return data if isinstance(data, dict) else None
