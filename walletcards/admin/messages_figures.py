"""A message's delivery over time for the dashboard's chart (admin/messages_page.py).

The span from the sending's start to the latest evidence (a push accepted, a phone's fetch, an
email sent) is cut into :data:`BUCKETS` steps; at each step's end the cumulative counts come
from one aggregate per source (``SUM(CASE WHEN pushed_at <= edge …)`` for every edge in one
scan of the message's rows, read by ``message_id``), never a Python loop over recipients.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from walletcards.messages.models import Message, MessageRecipient
from walletcards.outbound.models import OutboxEmail

BUCKETS = 12
MIN_STEP = timedelta(minutes=1)


@dataclass(frozen=True)
class Timeline:
    labels: list[str]  # each step's end, local time
    pushed: list[int]  # cumulative
    fetched: list[int]
    emailed: list[int]


def _cumulative(session: Session, column: Any, where: Any, edges: list[datetime]) -> list[int]:
    sums = [func.coalesce(func.sum(case((column <= edge, 1), else_=0)), 0) for edge in edges]
    row = session.execute(select(*sums).where(where)).one()
    return [int(value) for value in row]


def timeline(session: Session, message: Message, zone: str) -> Timeline | None:
    """None before the sending started."""
    start = message.started_at
    if start is None:
        return None
    r, o = MessageRecipient, OutboxEmail
    ends = session.execute(
        select(func.max(r.pushed_at), func.max(r.fetched_at)).where(r.message_id == message.id)
    ).one()
    last_email = session.scalar(select(func.max(o.sent_at)).where(o.message_ref == message.id))
    end = max([start, *(moment for moment in (*ends, last_email) if moment is not None)])
    step = max((end - start) / BUCKETS, MIN_STEP)
    edges = [start + step * (i + 1) for i in range(BUCKETS)]
    edges[-1] = max(edges[-1], end)  # the step is rounded to microseconds: the last event counts
    local = ZoneInfo(zone)
    style = "%H:%M" if edges[-1] - start <= timedelta(hours=20) else "%m-%d %H:%M"
    return Timeline(
        labels=[edge.astimezone(local).strftime(style) for edge in edges],
        pushed=_cumulative(session, r.pushed_at, r.message_id == message.id, edges),
        fetched=_cumulative(session, r.fetched_at, r.message_id == message.id, edges),
        emailed=_cumulative(session, o.sent_at, o.message_ref == message.id, edges),
    )
