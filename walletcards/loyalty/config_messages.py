"""``[messages]``: the rules of the owner's messages through the card (docs/messages.md).

``require_consent`` (default true): a marketing message goes only to members who gave
marketing consent. ``max_marketing_per_week`` (default 2): at most that many marketing
messages per card in 7 days (over it: skipped, counted as ``cap``). ``quiet_hours`` (default
``["21:00", "09:00"]``, the programme's time zone): a marketing message due inside them waits
until they end; ``[]`` turns them off. Service messages ignore all three.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from typing import Any

from walletcards.loyalty.config_reader import TableReader

Problems = list[tuple[str, str]]
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


@dataclass(frozen=True)
class MessagesTable:
    require_consent: bool = True
    max_marketing_per_week: int = 2
    quiet_hours: tuple[time, time] | None = (time(21, 0), time(9, 0))

    def quiet_at(self, local: time) -> bool:
        """Whether ``local`` (the programme's wall clock) falls inside the quiet hours."""
        if self.quiet_hours is None:
            return False
        start, end = self.quiet_hours
        if start <= end:
            return start <= local < end
        return local >= start or local < end  # across midnight


def read_messages(data: Any, problems: Problems) -> MessagesTable:
    default = MessagesTable()
    if data is None:
        return default
    reader = TableReader(data, "messages", problems)
    consent = reader.boolean("require_consent", default.require_consent)
    cap = reader.integer("max_marketing_per_week", default.max_marketing_per_week, high=100)
    quiet = _quiet(reader, default.quiet_hours)
    reader.finish()
    return MessagesTable(consent, default.max_marketing_per_week if cap is None else cap, quiet)


def _quiet(reader: TableReader, default: tuple[time, time] | None) -> tuple[time, time] | None:
    value = reader.raw("quiet_hours")
    if value is None:
        return default
    if value == []:
        return None
    matches = (
        [_CLOCK.fullmatch(v) if isinstance(v, str) else None for v in value]
        if isinstance(value, list) and len(value) == 2
        else [None]
    )
    if not all(matches) or value[0] == value[1]:
        reader.fail("quiet_hours", 'two different "HH:MM" times, e.g. ["21:00", "09:00"], or []')
        return default
    start, end = (time(int(m.group(1)), int(m.group(2))) for m in matches if m)
    return start, end
