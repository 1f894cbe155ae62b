"""The owner's message as the API takes it, checked field by field (every refusal a 422 that
names the field; the body's size and its NUL/surrogate-free text are checked before)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from walletcards.errors import ApiError
from walletcards.loyalty.config import ProgramConfig
from walletcards.messages.models import MARKETING, SERVICE

MAX_TEXT = 500  # per language: what a lock-screen notice and a back field can carry
MAX_LINK = 500
MAX_MEMBERS = 10_000
MAX_TIERS = 50
MAX_AHEAD = timedelta(days=366)  # send_at at most a year ahead; expires_at a year after it
CHANNELS = ("wallet", "email")
_LINK = re.compile(r"https?://[^\s/?#]+[^\s]*")
_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_MEMBER = re.compile(r"[0-9A-Za-z-]{1,20}")
_KEYS = {"text", "link", "kind", "audience", "send_at", "expires_at", "channels"}


@dataclass(frozen=True)
class MessageInput:
    text: dict[str, str]
    link: str | None
    kind: str
    audience: dict[str, Any]  # exactly one of all / segment / tiers / members
    send_at: datetime
    expires_at: datetime | None
    channels: list[str]


def _fail(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid_message", f"{field}: {message}")


def read_message(body: dict[str, Any], config: ProgramConfig, now: datetime) -> MessageInput:
    unknown = sorted(set(body) - _KEYS)
    if unknown:
        raise _fail(unknown[0][:40], "unknown field")
    send_at = _moment(body.get("send_at"), "send_at", now) or now
    if send_at > now + MAX_AHEAD:
        raise _fail("send_at", "at most a year ahead")
    expires_at = _moment(body.get("expires_at"), "expires_at", now)
    if expires_at is not None and not max(send_at, now) < expires_at <= send_at + MAX_AHEAD:
        raise _fail("expires_at", "after send_at (and now), at most a year after it")
    kind = body.get("kind")
    if kind not in (MARKETING, SERVICE):
        raise _fail("kind", '"marketing" or "service"')
    return MessageInput(
        _text(body.get("text"), config),
        _link(body.get("link")),
        str(kind),
        _audience(body.get("audience"), config),
        max(send_at, now),
        expires_at,
        _channels(body.get("channels"), config),
    )


def _text(value: Any, config: ProgramConfig) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise _fail("text", 'an object of the programme\'s languages, e.g. {"en": "…"}')
    for lang, words in value.items():
        if lang not in config.languages:
            raise _fail("text", f"languages are {', '.join(config.languages)}")
        if not isinstance(words, str) or not words.strip() or len(words) > MAX_TEXT:
            raise _fail(f"text.{lang}", f"1 to {MAX_TEXT} characters")
    if config.locale not in value:
        raise _fail("text", f"needs the programme's default language {config.locale!r}")
    return {lang: str(words).strip() for lang, words in value.items()}


def _link(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_LINK or not _LINK.fullmatch(value):
        raise _fail("link", f"an http(s) address of at most {MAX_LINK} characters")
    return value


def _moment(value: Any, field: str, now: datetime) -> datetime | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise _fail(field, "needs its UTC offset (Z or +01:00)")
        return moment.astimezone(UTC)  # OverflowError at the ends of the calendar (year 1, 9999)
    except (ValueError, OverflowError):
        raise _fail(field, "an ISO 8601 date and time, e.g. 2026-03-01T10:00:00+01:00") from None


def _audience(value: Any, config: ProgramConfig) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise _fail(
            "audience", 'one of {"all": true}, {"segment": …}, {"tiers": […]}, {"members": […]}'
        )
    ((key, item),) = value.items()
    if key == "all" and item is True:
        return {"all": True}
    if key == "segment" and isinstance(item, str) and _CODE.fullmatch(item):
        return {"segment": item}
    tiers = {level.code for level in config.rules.tiers.levels} if config.rules.tiers else set()
    if key == "tiers" and isinstance(item, list) and 0 < len(item) <= MAX_TIERS:
        if all(isinstance(code, str) and code in tiers for code in item):
            return {"tiers": sorted(set(item))}
        raise _fail("audience.tiers", f"the programme's tier codes: {', '.join(sorted(tiers))}")
    if key == "members" and isinstance(item, list) and 0 < len(item) <= MAX_MEMBERS:
        if all(isinstance(n, str) and _MEMBER.fullmatch(n) for n in item):
            return {"members": sorted(set(item))}
        raise _fail("audience.members", "member numbers (1 to 20 letters, digits or '-')")
    if key == "members" and isinstance(item, list) and len(item) > MAX_MEMBERS:
        raise _fail("audience.members", f"at most {MAX_MEMBERS} members per message")
    raise _fail(
        "audience", 'one of {"all": true}, {"segment": …}, {"tiers": […]}, {"members": […]}'
    )


def _channels(value: Any, config: ProgramConfig) -> list[str]:
    if value is None:
        return ["wallet"]
    if (
        not isinstance(value, list)
        or not value
        or len(value) > len(CHANNELS)
        or not all(isinstance(c, str) and c in CHANNELS for c in value)
    ):
        raise _fail("channels", 'a list of "wallet" and/or "email"')
    if "email" in value and "wallet" not in value:
        raise _fail("channels", '"email" goes with the wallet: ["wallet", "email"]')
    if "email" in value and not (config.email and config.email.enabled):
        raise _fail("channels", '"email" needs the programme\'s [email] enabled')
    return sorted(set(value))
