"""A message's email channel (``"channels": ["wallet", "email"]``): through the outbox.

- :func:`queue_emails`: per sending batch (walletcards/messages/sending.py), one
  ``INSERT … SELECT`` adds an outbox email for every card of the batch's audience: ``pending``
  for a member with an email address (a marketing message: who gave marketing consent — the
  unsubscribe link withdraws it — and was emailed fewer than ``[messages]
  max_marketing_per_week`` marketing messages in the week), else ``skipped`` with the reason
  in ``last_error`` (``no_email``, ``no_consent``, ``cap``). Quiet hours hold the whole sending.
- :func:`message_mail` / :func:`build_message`: the email the outbox worker sends
  (walletcards/outbound/delivery.py): the text in the member's language, the link, the card's
  link, and the unsubscribe link with RFC 8058 one-click headers (walletcards/rights/).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from html import escape
from typing import Any

from sqlalchemy import String, and_, case, cast, func, insert, literal, null, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from walletcards.i18n import language
from walletcards.links import card_links
from walletcards.loyalty.models import Card, Customer, Program
from walletcards.loyalty.programs import program_config
from walletcards.messages.models import MARKETING, Message, MessageRecipient
from walletcards.outbound.mail import unsubscribe_footer
from walletcards.outbound.models import OutboxEmail
from walletcards.rights.unsubscribe import unsubscribe_url
from walletcards.texts import language_of

EMAIL = "email"
NO_EMAIL = "no_email"
WEEK = timedelta(days=7)
REASONS = ("no_email", "no_consent", "cap")


def _reason(message: Message, program: Program, now: datetime) -> ColumnElement[Any]:
    whens: list[tuple[ColumnElement[bool], Any]] = [
        (or_(Customer.email.is_(None), Customer.email == ""), literal(NO_EMAIL)),
        # a held sign-up's address is not confirmed yet: no email of any kind but the
        # confirmation (double opt-in, walletcards/join/)
        (Customer.confirmed_at.is_(None), literal("no_consent")),
    ]
    if message.kind == MARKETING:
        # marketing email always needs consent (whatever the wallet's require_consent says)
        whens.append((Customer.marketing_consent.is_(False), literal("no_consent")))
        o, m = OutboxEmail, Message
        recent = (
            select(func.count())
            .select_from(o)
            .join(m, m.id == o.message_ref)
            .where(
                o.card_id == Card.id,
                o.status != "skipped",
                m.kind == MARKETING,
                m.started_at > now - WEEK,
                m.id != message.id,
            )
            .scalar_subquery()
        )
        cap = program_config(program).messages.max_marketing_per_week
        whens.append((recent >= cap, literal("cap")))
    return case(*whens, else_=null())


def queue_emails(
    session: Session, message: Message, program: Program, after: int, upto: int, now: datetime
) -> None:
    """The outbox emails of the batch of cards ``after < id <= upto`` (its recipient rows)."""
    email = program_config(program).email
    if email is None or not email.enabled:
        return  # [email] turned off since the message was scheduled: the wallet only
    r = MessageRecipient
    scored = (
        select(
            Card.id.label("card_id"),
            Customer.email.label("email"),
            _reason(message, program, now).label("reason"),
        )
        .join(Customer, Customer.id == Card.customer_id)
        .join(r, and_(r.card_id == Card.id, r.message_id == message.id))
        .where(r.card_id > after, r.card_id <= upto)
        .offset(0)  # each card's reason once (see sending.py)
        .subquery()
    )
    went = scored.c.reason.is_(None)
    rows = select(
        literal(program.id),
        scored.c.card_id,
        case((went, scored.c.email), else_=null()),
        literal(f"<msg-{message.id}-") + cast(scored.c.card_id, String) + literal("@walletcards>"),
        case((went, literal("pending")), else_=literal("skipped")),
        literal(0),
        literal(now),
        scored.c.reason,
        literal(now),
        literal(message.id),
    )
    columns = [
        "program_id",
        "card_id",
        "recipient",
        "message_id",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "message_ref",
    ]
    session.execute(insert(OutboxEmail).from_select(columns, rows))


def figures(session: Session, message_id: int) -> dict[str, Any]:
    """``emailed`` (the SMTP relay took it) and ``email_skipped`` per reason."""
    o = OutboxEmail
    counted = session.execute(
        select(o.status, o.last_error, func.count())
        .where(o.message_ref == message_id)
        .group_by(o.status, o.last_error)
    ).all()
    skipped = dict.fromkeys(REASONS, 0)
    emailed = failed = 0
    for status, reason, count in counted:
        if status == "sent":
            emailed += int(count)
        elif status == "failed":
            failed += int(count)
        elif status == "skipped" and reason in skipped:
            skipped[reason] += int(count)
    return {"emailed": emailed, "email_skipped": skipped, "email_failed": failed}


@dataclass(frozen=True)
class MessageMail:
    recipient: str
    sender: str
    reply_to: str | None
    message_id: str
    program_name: str
    locale: str
    text: str
    link: str | None
    card_url: str
    unsubscribe: str


def withheld(
    session: Session, row: OutboxEmail, card: Card, program: Program, now: datetime
) -> str | None:
    """Why a queued message email must not go now (None: it goes). Rules were applied when it
    was queued, but a broadcast's emails can wait hours in the outbox: a member who
    unsubscribed or was erased since, a message that expired or a programme whose ``[email]``
    was turned off since are skipped (the reason is the row's ``last_error``)."""
    email = program_config(program).email
    if email is None or not email.enabled:
        return "email turned off"
    message = session.get(Message, row.message_ref)
    if message is None or (message.expires_at is not None and message.expires_at <= now):
        return "expired"
    customer = session.get(Customer, card.customer_id)
    if customer is None or customer.erased_at is not None:
        return "erased"
    if message.kind == MARKETING and not customer.marketing_consent:
        return "no_consent"
    return None


def message_mail(
    session: Session, public_url: str, secret: str, row: OutboxEmail, card: Card, program: Program
) -> MessageMail:
    """The email an outbox row carrying a message becomes (the member's language)."""
    config = program_config(program)
    assert config.email is not None and row.recipient and row.message_ref is not None
    message = session.get(Message, row.message_ref)
    customer = session.get(Customer, card.customer_id)
    assert message is not None and customer is not None
    lang = language_of(customer.locale, config.languages, config.locale)
    texts = message.text
    text = texts.get(lang) or texts.get(config.locale) or next(iter(texts.values()))
    return MessageMail(
        row.recipient,
        config.email.sender,
        config.email.reply_to,
        row.message_id,
        config.name_in(lang),
        lang,
        str(text),
        message.link,
        str(card_links(public_url, card.public_token, False)["url"]),
        unsubscribe_url(public_url, secret, card.customer_id),
    )


def build_message(mail: MessageMail) -> EmailMessage:
    t = language(mail.locale)
    message = EmailMessage()
    message["Subject"] = mail.program_name
    message["From"] = mail.sender
    message["To"] = mail.recipient
    message["Message-ID"] = mail.message_id
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    footer_text, footer_html = unsubscribe_footer(message, mail.unsubscribe, mail.locale)
    open_label = t.gettext("Open your card")
    lines = [mail.text, ""]
    if mail.link:
        lines.append(mail.link)
    lines.append(f"{open_label}: {mail.card_url}")
    message.set_content("\n".join(lines) + "\n" + footer_text)
    link = f'<p><a href="{escape(mail.link)}">{escape(mail.link)}</a></p>' if mail.link else ""
    message.add_alternative(
        f'<html lang="{mail.locale}"><body style="font-family:sans-serif">'
        f"<h2>{escape(mail.program_name)}</h2><p>{escape(mail.text)}</p>{link}"
        f'<p><a href="{escape(mail.card_url)}">{escape(open_label)}</a></p>{footer_html}'
        "</body></html>",
        subtype="html",
    )
    return message
