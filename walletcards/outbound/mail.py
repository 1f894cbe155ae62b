"""The card email: plain text + HTML in the customer's language, the QR code inline, sent over
SMTP (WALLETCARDS_SMTP_URL: smtp://user:pass@host:587 with STARTTLS when offered, smtps://
for implicit TLS). Credentials come from the URL and never appear in logs or errors.
:class:`SmtpMailer` is the service's ``Mailer`` (walletcards/clients.py); without a URL,
:class:`UnconfiguredMailer` says so and the card emails wait in the outbox."""

from __future__ import annotations

import io
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from html import escape
from urllib.parse import unquote, urlsplit

import qrcode

from walletcards.cardface import CardFace
from walletcards.i18n import language
from walletcards.settings import Secret


@dataclass(frozen=True)
class CardMail:
    recipient: str
    sender: str
    reply_to: str | None
    message_id: str
    face: CardFace
    links: dict[str, str | None]
    unsubscribe: str | None = None  # walletcards/rights/unsubscribe.py: every email has one
    joined: bool = False  # a member who joined on the sign-up page (no order to thank for)


def unsubscribe_footer(message: EmailMessage, url: str | None, lang: str) -> tuple[str, str]:
    """RFC 8058 one-click headers, and the footer's text and HTML (offers stop; messages
    about the card do not)."""
    if not url:
        return "", ""
    message["List-Unsubscribe"] = f"<{url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    label = language(lang).gettext("Unsubscribe from offers")
    return (
        f"\n--\n{label}: {url}\n",
        f'<p style="font-size:12px"><a href="{escape(url)}">{escape(label)}</a></p>',
    )


def build(mail: CardMail) -> EmailMessage:
    face, links = mail.face, mail.links
    t = language(face.locale)
    message = EmailMessage()
    message["Subject"] = t.gettext("Your %(program)s loyalty card", program=face.program_name)
    message["From"] = mail.sender
    message["To"] = mail.recipient
    message["Message-ID"] = mail.message_id  # stable: a resend after a crash is recognisable
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    points = face.available + face.pending
    intro = t.ngettext(
        "Thank you for your order! Your loyalty card is ready: %(num)s point so far.",
        "Thank you for your order! Your loyalty card is ready: %(num)s points so far.",
        points,
    )
    if mail.joined:
        intro = t.ngettext(
            "Welcome! Your loyalty card is ready: %(num)s point so far.",
            "Welcome! Your loyalty card is ready: %(num)s points so far.",
            points,
        )
    open_label = t.gettext("Open your card")
    apple_label = t.gettext("Add to Apple Wallet")
    google_label = t.gettext("Add to Google Wallet")
    text = [intro, "", f"{open_label}: {links['url']}"]
    if links.get("apple"):
        text.append(f"{apple_label}: {links['apple']}")
    if links.get("google"):
        text.append(f"{google_label}: {links['google']}")
    footer_text, footer_html = unsubscribe_footer(message, mail.unsubscribe, face.locale)
    message.set_content("\n".join(text) + "\n" + footer_text)
    qr_cid = make_msgid(domain="walletcards")
    buttons = "".join(
        f'<p><a href="{escape(str(url))}" style="display:inline-block;padding:12px 18px;'
        f'background:#000;color:#fff;border-radius:8px;text-decoration:none">{escape(label)}</a></p>'
        for label, url in (
            (open_label, links["url"]),
            (apple_label, links.get("apple")),
            (google_label, links.get("google")),
        )
        if url
    )
    html = (
        f'<html lang="{face.locale}"><body style="font-family:sans-serif">'
        f"<h2>{escape(face.program_name)}</h2>"
        f"<p>{escape(intro)}</p>{buttons}"
        f'<p><img src="cid:{qr_cid[1:-1]}" alt="QR {escape(face.member_number)}" '
        f'width="200" height="200"></p><p>{escape(face.member_number)}</p>{footer_html}'
        "</body></html>"
    )
    message.add_alternative(html, subtype="html")
    png = io.BytesIO()
    qrcode.make(face.code, border=2).save(png)
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(png.getvalue(), "image", "png", cid=qr_cid)
    return message


@dataclass(frozen=True)
class ConfirmMail:
    """The card email of a sign-up held until its email is confirmed (walletcards/join/)."""

    recipient: str
    sender: str
    reply_to: str | None
    message_id: str
    program_name: str
    locale: str
    link: str  # GET /join/<slug>/confirm/<token>: confirms and opens the card
    days: int  # how long the link works


def build_confirmation(mail: ConfirmMail) -> EmailMessage:
    t = language(mail.locale)
    message = EmailMessage()
    message["Subject"] = t.gettext(
        "Confirm your %(program)s loyalty card", program=mail.program_name
    )
    message["From"] = mail.sender
    message["To"] = mail.recipient
    message["Message-ID"] = mail.message_id
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    intro = t.gettext("Please confirm your email address to get your loyalty card.")
    label = t.gettext("Confirm and open my card")
    valid = t.ngettext(
        "The link works for %(num)s day.", "The link works for %(num)s days.", mail.days
    )
    ignore = t.gettext("Did not sign up? Ignore this email: nothing happens without the link.")
    message.set_content(f"{intro}\n\n{label}: {mail.link}\n\n{valid}\n{ignore}\n")
    message.add_alternative(
        f'<html lang="{mail.locale}"><body style="font-family:sans-serif">'
        f"<h2>{escape(mail.program_name)}</h2><p>{escape(intro)}</p>"
        f'<p><a href="{escape(mail.link)}" style="display:inline-block;padding:12px 18px;'
        f'background:#000;color:#fff;border-radius:8px;text-decoration:none">{escape(label)}</a></p>'
        f"<p>{escape(valid)}</p><p>{escape(ignore)}</p></body></html>",
        subtype="html",
    )
    return message


def send(smtp_url: str, message: EmailMessage, timeout: float = 20.0) -> None:
    """Deliver one message; raises OSError/smtplib.SMTPException on failure."""
    url = urlsplit(smtp_url)
    host, port = url.hostname or "localhost", url.port
    context = ssl.create_default_context()
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port or 587, timeout=timeout)
    with client:
        client.ehlo()
        if url.scheme == "smtp" and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)


class SmtpMailer:
    """One SMTP connection per message (a card email is rare; nothing to keep open)."""

    configured = True

    def __init__(self, url: Secret) -> None:
        self._url = url

    def send(self, message: EmailMessage) -> None:
        send(self._url.reveal(), message)

    def close(self) -> None:
        pass


class UnconfiguredMailer:
    """WALLETCARDS_SMTP_URL is not set: nothing can be sent, so nothing is tried."""

    configured = False

    def send(self, message: EmailMessage) -> None:
        raise OSError("WALLETCARDS_SMTP_URL is not set")

    def close(self) -> None:
        pass
