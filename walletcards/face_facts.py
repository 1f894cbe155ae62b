"""The ledger facts a card face shows, read in one query (the pass GET's hot path).

A card face needs the settled balance, the points expiring soon, whether reservations are open
and the latest message. Read one by one these were four round trips per pass; here they are
one ``SELECT`` (the card's lots aggregated, an ``EXISTS`` for open reservations, the latest
message joined by its id), and the open reservations are read only when there are any. The
answers are those of ``ledger.settled_balance``, ``ledger.expiring_before(card_id=…)``,
``reservations.open_for_card`` and ``messages.delivery.latest_message`` (tests compare them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from walletcards.db import UTCDateTime
from walletcards.loyalty.lots import Balance
from walletcards.loyalty.models import Card, Lot
from walletcards.loyalty.redemption_models import Redemption
from walletcards.messages.delivery import message_text
from walletcards.messages.models import SENT, Message, MessageRecipient


class FaceFacts(NamedTuple):
    balance: Balance
    expiring: tuple[int, datetime] | None  # (points, soonest expiry) before the horizon
    open_codes: bool  # the card has reservations still open
    message: tuple[str | None, str | None]  # (text, link) of the latest unexpired message


def face_facts(
    session: Session, card: Card, now: datetime, horizon: datetime | None, lang: str, default: str
) -> FaceFacts:
    """``horizon``: points expiring before it are "expiring" (None: the programme warns of
    none); ``lang`` / ``default``: the message's language and the programme's fallback."""
    params: dict[str, Any] = {"card": card.id, "now": now}
    if horizon is not None:
        params["horizon"] = horizon
    row: Any = session.execute(_statement(horizon is not None), params).one()
    first = row.first
    expiring = (int(row.s), first) if first is not None else None
    message: tuple[str | None, str | None] = (None, None)
    if row.text is not None:
        message = message_text(row.text, row.link, row.expires_at, lang, default, now)
    return FaceFacts(Balance(int(row.a), int(row.p)), expiring, bool(row.reserved), message)


def _statement(warns: bool) -> Select[Any]:
    """The query, built once per process (with and without a horizon): its cache key too is
    computed once, where building it per GET cost about a millisecond of CPU."""
    found = _STATEMENTS.get(warns)
    if found is None:
        found = _STATEMENTS[warns] = _build(warns)
    return found


def _build(warns: bool) -> Select[Any]:
    card_id: BindParameter[int] = bindparam("card")
    now = bindparam("now", type_=UTCDateTime())
    spendable = Lot.released.is_(True) | (Lot.available_at <= now)
    soon = (
        and_(Lot.available_at <= now, Lot.expires_at < bindparam("horizon", type_=UTCDateTime()))
        if warns
        else literal(False)
    )
    lots = (
        select(
            func.coalesce(func.sum(case((spendable, Lot.remaining), else_=0)), 0).label("a"),
            func.coalesce(func.sum(case((spendable, 0), else_=Lot.remaining)), 0).label("p"),
            func.coalesce(func.sum(case((soon, Lot.remaining), else_=0)), 0).label("s"),
            type_coerce(func.min(case((soon, Lot.expires_at))), UTCDateTime()).label("first"),
        )
        .where(
            Lot.card_id == card_id,
            Lot.remaining > 0,
            Lot.expires_at.is_(None) | (Lot.expires_at > now),
        )
        .subquery()
    )
    latest = (
        select(Message.id)
        .join(MessageRecipient, MessageRecipient.message_id == Message.id)
        .where(MessageRecipient.card_id == card_id, MessageRecipient.status == SENT)
        .order_by(Message.started_at.desc(), Message.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    reserved = exists().where(Redemption.card_id == card_id, Redemption.status == "reserved")
    return (
        select(
            lots.c.a,
            lots.c.p,
            lots.c.s,
            lots.c.first,
            reserved.label("reserved"),
            Message.text,
            Message.link,
            Message.expires_at,
        )
        .select_from(lots)
        .outerjoin(Message, Message.id == latest)
    )


_STATEMENTS: dict[bool, Select[Any]] = {}
