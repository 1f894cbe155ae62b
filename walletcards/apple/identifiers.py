"""The shapes of what devices send the PassKit web service, checked before anything reaches
the database: PostgreSQL refuses NUL in text (a 500 instead of a clear answer) and an
over-long or strange value is never one of ours, so it costs no query.

Apple fixes none of these formats except that push tokens are hex of *variable* length
(FACTS-2 §4: 64 characters today, 108 seen; never require 64). The bounds are generous.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TypeGuard

PUSH_TOKEN = re.compile(r"[0-9A-Fa-f]{16,200}")
DEVICE_LIBRARY_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")  # iOS sends 32 hex characters
SERIAL = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # ours are UUIDs (cards.serial is 64 wide)
PASS_TYPE_ID = re.compile(r"[A-Za-z0-9._-]{1,255}")  # reverse DNS: pass.com.example.card
TAG = re.compile(r"[0-9]{1,18}")  # ASCII digits only: str.isdigit() also takes "²"


def push_token_ok(token: object) -> TypeGuard[str]:
    return isinstance(token, str) and PUSH_TOKEN.fullmatch(token) is not None


def device_ok(device: str) -> bool:
    return DEVICE_LIBRARY_ID.fullmatch(device) is not None


def serial_ok(serial: str) -> bool:
    return SERIAL.fullmatch(serial) is not None


def pass_type_ok(ptid: str) -> bool:
    return PASS_TYPE_ID.fullmatch(ptid) is not None


def tag_cutoff(since: str) -> datetime | None:
    """The moment a ``passesUpdatedSince`` tag stands for (we hand out microseconds since the
    epoch as a string), or None for anything we could not have handed out (empty, not
    digits, out of range). None means "no tag": the device gets all its serials and a fresh
    tag, then fetches each pass with If-Modified-Since (304s), so it recovers instead of
    retrying a request that can never succeed."""
    if TAG.fullmatch(since) is None:
        return None
    try:
        return datetime.fromtimestamp(int(since) / 1_000_000, UTC)
    except (OverflowError, OSError, ValueError):
        return None
