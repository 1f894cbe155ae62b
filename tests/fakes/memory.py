"""In-memory outside systems for fast unit tests: each records what it was sent and answers
from a script, with no socket, thread or certificate (walletcards/clients.py has the
Protocols). The real clients are tested against the loopback fakes beside this file."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from walletcards.apple.apns import CertificateAuth, Outcome, TokenAuth
from walletcards.clients import Clients
from walletcards.clock import Clock, SystemClock
from walletcards.loyalty.models import Program
from walletcards.shops.admin import ShopAdmin
from walletcards.shops.memory import MemoryShop

if TYPE_CHECKING:
    from walletcards.clients import ApnsPush, EventPoster, GoogleWallet, Mailer, ShopAdmins


@dataclass
class MemoryApns:
    """``pushes``: (topic, token) in order. ``script[token]``: outcomes given in turn, then
    DELIVERED."""

    pushes: list[tuple[str, str]] = field(default_factory=list)
    script: dict[str, list[Outcome]] = field(default_factory=lambda: defaultdict(list))
    auths: list[CertificateAuth | TokenAuth] = field(default_factory=list)

    def push(
        self, auth: CertificateAuth | TokenAuth, topic: str, tokens: Sequence[str]
    ) -> dict[str, Outcome]:
        self.auths.append(auth)
        outcomes = {}
        for token in tokens:
            self.pushes.append((topic, token))
            planned = self.script.get(token)
            outcomes[token] = planned.pop(0) if planned else Outcome.DELIVERED
        return outcomes

    def close(self) -> None:
        pass


@dataclass
class MemoryGoogle:
    """``calls``: (method, id, body). ``classes``/``objects``: what Google would hold now.
    ``failures``: exceptions raised, in turn, by the next calls."""

    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    classes: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[Exception] = field(default_factory=list)

    def _call(self, method: str, store: dict[str, dict[str, Any]], body: dict[str, Any]) -> None:
        self.calls.append((method, body["id"], body))
        if self.failures:
            raise self.failures.pop(0)
        store[body["id"]] = {**store.get(body["id"], {}), **body}

    def upsert_class(self, service_account_file: str, body: dict[str, Any]) -> dict[str, Any]:
        self._call("class", self.classes, body)
        return self.classes[body["id"]]

    def upsert_object(
        self, service_account_file: str, body: dict[str, Any], notify: bool = False
    ) -> dict[str, Any]:
        sent = {**body, "notifyPreference": "NOTIFY_ON_UPDATE"} if notify else body
        self._call("object", self.objects, sent)
        return self.objects[body["id"]]

    def add_message(
        self, service_account_file: str, kind: str, resource_id: str, message: dict[str, Any]
    ) -> dict[str, Any]:
        self.calls.append((f"{kind}/addMessage", resource_id, message))
        if self.failures:
            raise self.failures.pop(0)
        return {}

    def close(self) -> None:
        pass


@dataclass
class MemoryMailer:
    """``sent``: the messages accepted. ``failures``: exceptions raised, in turn, instead."""

    sent: list[EmailMessage] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)
    configured: bool = True

    def send(self, message: EmailMessage) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)

    def close(self) -> None:
        pass


@dataclass
class MemoryEvents:
    """``posts``: (url, body, headers). ``answers``: statuses (or exceptions) given in turn,
    then 200."""

    posts: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    answers: list[int | Exception] = field(default_factory=list)

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        self.posts.append((url, body, dict(headers)))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self) -> None:
        pass


@dataclass
class MemoryShops:
    """In-memory shops by (programme slug, platform): ``add`` one to give a programme a shop
    admin (whatever its file says); a programme without one has none (``for_program`` None)."""

    clock: Clock
    shops: dict[tuple[str, str], MemoryShop] = field(default_factory=dict)

    def add(self, slug: str, platform: str = "shopify") -> MemoryShop:
        shop = MemoryShop(clock=self.clock)
        self.shops[(slug, platform)] = shop
        return shop

    def for_program(self, program: Program, platform: str | None = None) -> ShopAdmin | None:
        for (slug, kind), shop in self.shops.items():
            if slug == program.slug and platform in (None, kind):
                return shop
        return None

    def close(self) -> None:
        pass


@dataclass
class MemoryClients:
    """The in-memory systems and the :class:`Clients` that holds them."""

    apns: MemoryApns
    google: MemoryGoogle
    mailer: MemoryMailer
    events: MemoryEvents
    shops: MemoryShops
    clients: Clients


def memory_clients(clock: Clock) -> MemoryClients:
    apns, google, mailer, events = MemoryApns(), MemoryGoogle(), MemoryMailer(), MemoryEvents()
    shops = MemoryShops(clock)
    clients = Clients(clock, apns, google, mailer, events, shops)
    return MemoryClients(apns, google, mailer, events, shops, clients)


if TYPE_CHECKING:  # each in-memory system is what its Protocol says (mypy checks it)
    _CHECKS: tuple[ApnsPush, GoogleWallet, Mailer, EventPoster, ShopAdmins] = (
        MemoryApns(),
        MemoryGoogle(),
        MemoryMailer(),
        MemoryEvents(),
        MemoryShops(SystemClock()),
    )
