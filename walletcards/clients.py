"""The outside systems the service talks to: one ``typing.Protocol`` each, in the outside
system's own words, and :class:`Clients`, which holds one of each (and the clock).

:func:`build_clients` makes the real ones from the settings, once per process: ``create_app``,
``walletcards serve`` and ``walletcards worker`` all use it. Tests either point the real
clients at loopback fakes (``tests/fakes/``: they test the real clients) or hand in the
in-memory ones (``tests/fakes/memory.py``: fast, recording, scriptable). Nothing here does
I/O at start: connections open on first use. docs/architecture.md, "Outside systems".
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Protocol

from walletcards.cache import KeyedCache
from walletcards.clock import Clock, SystemClock

if TYPE_CHECKING:
    from walletcards.apple.apns import CertificateAuth, Outcome, TokenAuth
    from walletcards.loyalty.models import Program
    from walletcards.settings import Settings
    from walletcards.shops.admin import ShopAdmin


class ApnsPush(Protocol):
    """Apple Push Notification service, as a pass's provider: an empty push on the pass type's
    topic to each device token; one :class:`~walletcards.apple.apns.Outcome` per token, and
    never an exception for one device (walletcards/apple/apns.py)."""

    def push(
        self, auth: CertificateAuth | TokenAuth, topic: str, tokens: Sequence[str]
    ) -> dict[str, Outcome]: ...

    def close(self) -> None: ...


class GoogleWallet(Protocol):
    """Google Wallet API (walletobjects v1) as an issuer's service account: insert-or-patch
    loyalty classes and objects. Raises ``GoogleWalletError`` (``PermissionDenied`` when the
    account may not act for the issuer) after its own retries (walletcards/google/client.py)."""

    def upsert_class(self, service_account_file: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def upsert_object(
        self, service_account_file: str, body: dict[str, Any], notify: bool = False
    ) -> dict[str, Any]: ...

    def add_message(
        self, service_account_file: str, kind: str, resource_id: str, message: dict[str, Any]
    ) -> dict[str, Any]: ...

    def close(self) -> None: ...


class Mailer(Protocol):
    """An SMTP relay (WALLETCARDS_SMTP_URL). ``send`` raises ``OSError`` or
    ``smtplib.SMTPException``. Without a relay, ``configured`` is False: card emails wait in
    the outbox, and the worker says so at start-up (walletcards/outbound/mail.py)."""

    @property
    def configured(self) -> bool: ...

    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class EventPoster(Protocol):
    """The shops' event receivers: POST a signed event to a URL checked at delivery time
    (https, public addresses only outside development) and answer the HTTP status. Raises
    ``Refused`` (nothing sent) or ``Unreachable`` (no answer) (walletcards/outbound/sender.py)."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int: ...

    def close(self) -> None: ...


class ShopAdmins(Protocol):
    """The shops' own admin APIs (Shopify Admin GraphQL, WooCommerce REST v3): the client of
    a programme's shop, by its ``[shopify]`` / ``[woocommerce]`` table, or None when the file
    configures none. The client raises ``ShopRefused`` or ``ShopUnavailable``; so does
    ``for_program`` when an ``env:`` credential is unset here (walletcards/shops/)."""

    def for_program(self, program: Program, platform: str | None = None) -> ShopAdmin | None:
        """``platform``: "shopify" or "woocommerce"; None: the one configured (Shopify
        first when both are)."""
        ...

    def close(self) -> None: ...


@dataclass
class Clients:
    """One client per outside system, shared by the web app and the worker of a process."""

    clock: Clock
    apns: ApnsPush
    google: GoogleWallet
    mailer: Mailer
    events: EventPoster
    shops: ShopAdmins
    _done: KeyedCache[Hashable, object] = field(
        default_factory=KeyedCache, init=False, repr=False, compare=False
    )

    def once(self, key: Hashable, call: Callable[[], object]) -> None:
        """Run ``call`` once per key for these clients (a set-up call, such as a programme
        version's Google class); one that raises runs again next time."""
        self._done.get(key, call)

    def close(self) -> None:
        for client in (self.apns, self.google, self.mailer, self.events, self.shops):
            client.close()

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def build_clients(settings: Settings, clock: Clock | None = None) -> Clients:
    """The real clients, configured from the settings (the clock: the system's unless given)."""
    from walletcards.apple.apns import ApnsPusher
    from walletcards.google.client import GoogleWalletApi
    from walletcards.outbound.mail import SmtpMailer, UnconfiguredMailer
    from walletcards.outbound.sender import EventSender
    from walletcards.shops.clients import ShopClients

    clock = clock or SystemClock()
    return Clients(
        clock=clock,
        apns=ApnsPusher(settings.apns_url, settings.apns_ca_file),
        google=GoogleWalletApi(settings.google_api_url),
        mailer=SmtpMailer(settings.smtp_url) if settings.smtp_url else UnconfiguredMailer(),
        events=EventSender(dev=settings.dev),
        shops=ShopClients(settings, clock),
    )
