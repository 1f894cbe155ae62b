"""What a card shows of its messages, and the proof that each phone got them.

- :func:`latest_message`: the card's latest unexpired message (text in the card's language,
  else the programme's default; its link), for the card face;
- :func:`mark_pushed`: APNs accepted a push of a card version carrying the message (the sync
  worker's record step, walletcards/sync/cards.py);
- :func:`mark_fetched`: the phone fetched a pass version carrying it from the PassKit web
  service (walletcards/apple/webservice.py) — the one proof that it reached the phone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, Update, bindparam, func, select, update
from sqlalchemy.orm import Session

from walletcards.messages.models import SENT, Message, MessageRecipient


def latest_message(
    session: Session, card_id: int, lang: str, default: str, now: datetime
) -> tuple[str | None, str | None]:
    """(text, link) of the latest message the card was sent, unless it has expired (older
    messages have dropped off: they never come back)."""
    found = session.execute(
        select(Message.text, Message.link, Message.expires_at)
        .join(MessageRecipient, MessageRecipient.message_id == Message.id)
        .where(MessageRecipient.card_id == card_id, MessageRecipient.status == SENT)
        .order_by(Message.started_at.desc(), Message.id.desc())
        .limit(1)
    ).first()
    if found is None:
        return None, None
    return message_text(found.text, found.link, found.expires_at, lang, default, now)


def message_text(
    texts: dict[str, str],
    link: str | None,
    expires_at: datetime | None,
    lang: str,
    default: str,
    now: datetime,
) -> tuple[str | None, str | None]:
    """(text, link) of a message as a card in ``lang`` shows it; (None, None) once expired."""
    if expires_at is not None and expires_at <= now:
        return None, None
    text = texts.get(lang) or texts.get(default) or next(iter(texts.values()), None)
    return text, link


def mark_pushed(session: Session, pushed: list[dict[str, int]], now: datetime) -> None:
    """``pushed``: ``{"b_card", "b_version"}`` per card whose push APNs accepted; one
    executemany, the first push of a version carrying each message counts."""
    if not pushed:
        return
    table = MessageRecipient.__table__
    assert isinstance(table, Table)
    session.connection().execute(
        update(table)
        .where(
            table.c.card_id == bindparam("b_card"),
            table.c.status == SENT,
            table.c.card_version <= bindparam("b_version"),
            table.c.pushed_at.is_(None),
        )
        .values(pushed_at=now),
        pushed,
    )


def mark_fetched(
    session: Session, card_id: int, version: int, now: datetime, *, durable: bool = True
) -> None:
    """The phone fetched the pass at ``version``: every message it carries is fetched (once).
    ``durable=False`` (PostgreSQL; the pass GET storm): if this writes, the transaction's
    commit does not wait for the disk (``synchronous_commit`` off for it, set by the same
    statement: no extra round trip), so a database crash may lose the last moment's proofs."""
    relaxed = not durable and session.get_bind().dialect.name == "postgresql"
    session.flush()  # what the caller changed first, as an ORM statement would autoflush
    session.connection().execute(
        _fetched_statement(relaxed), {"b_card": card_id, "b_version": version, "b_now": now}
    )


_FETCHED: dict[bool, Update] = {}


def _fetched_statement(relaxed: bool) -> Update:
    """mark_fetched's UPDATE, built once per process (and its cache key with it)."""
    found = _FETCHED.get(relaxed)
    if found is not None:
        return found
    table = MessageRecipient.__table__
    assert isinstance(table, Table)
    query = update(table).where(
        table.c.card_id == bindparam("b_card"),
        table.c.status == SENT,
        table.c.card_version <= bindparam("b_version"),
        table.c.fetched_at.is_(None),
    )
    if relaxed:
        setting = select(func.set_config("synchronous_commit", "off", True).label("setting"))
        cte = setting.cte("relaxed")
        query = query.add_cte(cte).where(select(cte.c.setting).scalar_subquery() == "off")
    found = _FETCHED[relaxed] = query.values(fetched_at=bindparam("b_now"))
    return found
