"""The card email: plain text + HTML in the customer's language, the QR code inline, sent over
SMTP (WALLETCARDS_SMTP_URL: smtp://user:pass@host:587 with STARTTLS when offered, smtps://
for implicit TLS). Credentials come from the URL and never appear in logs or errors."""

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

SUBJECT = {
    "en": "Your {name} loyalty card",
    "ru": "Ваша карта лояльности {name}",
    "zh": "您的{name}会员卡",
}
INTRO = {
    "en": "Thank you for your order! Your loyalty card is ready: {points} points so far.",
    "ru": "Спасибо за заказ! Ваша карта лояльности готова: на ней уже {points} баллов.",
    "zh": "感谢您的订购！您的会员卡已就绪，目前积分：{points}。",
}
BUTTONS = {
    "en": ("Open your card", "Add to Apple Wallet", "Add to Google Wallet"),
    "ru": ("Открыть карту", "Добавить в Apple Wallet", "Добавить в Google Wallet"),
    "zh": ("打开会员卡", "添加到 Apple 钱包", "添加到 Google 钱包"),
}


@dataclass(frozen=True)
class CardMail:
    recipient: str
    sender: str
    reply_to: str | None
    message_id: str
    face: CardFace
    links: dict[str, str | None]


def build(mail: CardMail) -> EmailMessage:
    face, links = mail.face, mail.links
    lang = face.locale
    message = EmailMessage()
    message["Subject"] = SUBJECT[lang].format(name=face.program_name)
    message["From"] = mail.sender
    message["To"] = mail.recipient
    message["Message-ID"] = mail.message_id  # stable: a resend after a crash is recognisable
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    points = face.available + face.pending
    open_label, apple_label, google_label = BUTTONS[lang]
    text = [INTRO[lang].format(points=points), "", f"{open_label}: {links['url']}"]
    if links.get("apple"):
        text.append(f"{apple_label}: {links['apple']}")
    if links.get("google"):
        text.append(f"{google_label}: {links['google']}")
    message.set_content("\n".join(text) + "\n")
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
        f'<html><body style="font-family:sans-serif"><h2>{escape(face.program_name)}</h2>'
        f"<p>{escape(INTRO[lang].format(points=points))}</p>{buttons}"
        f'<p><img src="cid:{qr_cid[1:-1]}" alt="QR {escape(face.member_number)}" '
        f'width="200" height="200"></p><p>{escape(face.member_number)}</p></body></html>'
    )
    message.add_alternative(html, subtype="html")
    png = io.BytesIO()
    qrcode.make(face.code, border=2).save(png)
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(png.getvalue(), "image", "png", cid=qr_cid)
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
